"""A strict reader of the Prometheus text exposition format (0.0.4), as dbbackupfs writes it.

    from promcheck import parse
    samples = parse(text, prefix="dbbackupfs_")   # raises FormatError on any deviation
    samples[("dbbackupfs_inodes", ())]             # -> float
    samples[("dbbackupfs_api_requests_total", (("code", "2xx"), ("route", "/r"), ...))]

Stricter than a scraper: every family needs # HELP and # TYPE before its samples, samples
of a family are contiguous, no timestamps, no duplicate series, counters end in _total (and
only counters), histograms have cumulative buckets ending in le="+Inf" equal to _count and
a _sum.  promtool check metrics is run as well where it is installed; this checker runs
everywhere.
"""

import math
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class FormatError(Exception):
    pass


def _labels(text, where):
    """'a="x",b="y"' -> (("a","x"),("b","y")), with the three escapes of the format."""
    out, i = [], 0
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0 or not LABEL.match(text[i:eq]):
            raise FormatError(f"{where}: bad label name in {{{text}}}")
        if eq + 1 >= len(text) or text[eq + 1] != '"':
            raise FormatError(f"{where}: label value not quoted")
        j, value = eq + 2, []
        while True:
            if j >= len(text):
                raise FormatError(f"{where}: unterminated label value")
            c = text[j]
            if c == "\\":
                esc = text[j + 1:j + 2]
                if esc not in ('\\', '"', "n"):
                    raise FormatError(f"{where}: bad escape \\{esc}")
                value.append("\n" if esc == "n" else esc)
                j += 2
            elif c == '"':
                break
            elif c == "\n":
                raise FormatError(f"{where}: raw newline in a label value")
            else:
                value.append(c)
                j += 1
        out.append((text[i:eq], "".join(value)))
        i = j + 1
        if i < len(text):
            if text[i] != ",":
                raise FormatError(f"{where}: expected ',' between labels")
            i += 1
    names = [k for k, _ in out]
    if len(set(names)) != len(names):
        raise FormatError(f"{where}: a label given twice")
    return tuple(sorted(out))


def _sample(line, where):
    if "{" in line:
        name, rest = line.split("{", 1)
        close = rest.rfind("}")
        if close < 0:
            raise FormatError(f"{where}: unclosed labels")
        labels, tail = _labels(rest[:close], where), rest[close + 1:]
    else:
        name, _, tail = line.partition(" ")
        tail, labels = " " + tail, ()
    if not NAME.match(name):
        raise FormatError(f"{where}: bad metric name {name!r}")
    fields = tail.split(" ")
    if len(fields) != 2 or fields[0] != "":
        raise FormatError(f"{where}: expected exactly 'name value' (no timestamp): {line!r}")
    try:
        value = float(fields[1])
    except ValueError:
        raise FormatError(f"{where}: bad value {fields[1]!r}") from None
    return name, labels, value


def _family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name


def _check_histograms(samples, types):
    for fam, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                rest = tuple(kv for kv in labels if kv[0] != "le")
                le = dict(labels).get("le")
                if le is None:
                    raise FormatError(f"{fam}: a bucket without le")
                series.setdefault(rest, []).append((math.inf if le == "+Inf" else float(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            if buckets[-1][0] != math.inf:
                raise FormatError(f"{fam}{rest}: no le=\"+Inf\" bucket")
            counts = [v for _, v in buckets]
            if counts != sorted(counts):
                raise FormatError(f"{fam}{rest}: buckets are not cumulative")
            if samples.get((fam + "_count", rest)) != counts[-1]:
                raise FormatError(f"{fam}{rest}: _count differs from the +Inf bucket")
            if (fam + "_sum", rest) not in samples:
                raise FormatError(f"{fam}{rest}: no _sum")


def parse(text, prefix=""):
    """{(name, sorted label pairs): value}; FormatError on anything a strict reader refuses."""
    if text and not text.endswith("\n"):
        raise FormatError("the last line has no newline")
    helps, types, samples, done, current = set(), {}, {}, set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                raise FormatError(f"{where}: a comment that is neither HELP nor TYPE")
            name = parts[2]
            if not name.startswith(prefix) or not NAME.match(name):
                raise FormatError(f"{where}: bad family name {name!r}")
            if parts[1] == "HELP":
                if name in helps or len(parts) < 4 or not parts[3]:
                    raise FormatError(f"{where}: HELP twice or empty for {name}")
                helps.add(name)
            else:
                if name in types or len(parts) != 4 or parts[3] not in TYPES:
                    raise FormatError(f"{where}: TYPE twice or unknown for {name}")
                if any(_family_of(k[0], {name: parts[3]}) == name for k in samples):
                    raise FormatError(f"{where}: TYPE after samples of {name}")
                is_counter = parts[3] == "counter"
                if is_counter != name.endswith("_total"):
                    raise FormatError(f"{where}: _total must end counters, and only them")
                types[name] = parts[3]
            continue
        if not line:
            raise FormatError(f"{where}: empty line")
        name, labels, value = _sample(line, where)
        fam = _family_of(name, types)
        if not fam.startswith(prefix):
            raise FormatError(f"{where}: {name} lacks the prefix {prefix}")
        if fam not in types or fam not in helps:
            raise FormatError(f"{where}: {name} before its HELP and TYPE")
        if fam != current:
            if fam in done:
                raise FormatError(f"{where}: samples of {fam} are not together")
            if current:
                done.add(current)
            current = fam
        if (name, labels) in samples:
            raise FormatError(f"{where}: {name}{labels} twice")
        if types[fam] == "counter" and value < 0:
            raise FormatError(f"{where}: a negative counter")
        samples[(name, labels)] = value
    if helps != set(types):
        raise FormatError("a family has HELP without TYPE or the reverse")
    _check_histograms(samples, types)
    return samples


def select(samples, name, **labels):
    """The samples of one metric whose labels include `labels`: {label dict items: value}."""
    out = {}
    for (n, ls), v in samples.items():
        d = dict(ls)
        if n == name and all(d.get(k) == val for k, val in labels.items()):
            out[ls] = v
    return out


def total(samples, name, **labels):
    return sum(select(samples, name, **labels).values())
