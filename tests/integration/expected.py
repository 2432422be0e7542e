"""The tree DESIGN.md promises for a cloudsim fleet, computed independently of the C code.

Given cloudsim's ground truth (GET /_sim/fleet), build the expected mount: every path,
the exact bytes of every file, file times, and directory mtimes.  This re-implements the
contract's rules (names, collisions, 255-byte cut, content format, time zones) in Python so
that the integration tests compare the daemon with the contract, not with itself.
"""

import datetime
import json
import re

SERVICES = ("ddm", "dds", "gaussdb", "geminidb", "rds", "taurusdb")
# The largest page of each service's listings (DESIGN.md "The services").
PAGE_LIMIT = {"taurusdb": 100, "geminidb": 100, "ddm": 128, "rds": 100, "dds": 100, "gaussdb": 100}
# Services that list backups one instance at a time; the others list them project-wide.
PER_INSTANCE = ("rds", "taurusdb")
NAME_MAX = 255
NO_INSTANCE_ID = "no-instance-id"


def sanitize(s):
    return "".join("_" if (c == "/" or ord(c) < 0x20 or ord(c) == 0x7F) else c for c in s)


class Num(str):
    """A JSON number kept as the exact text it was sent as."""


def load_exact(text):
    """Parse JSON keeping every number's spelling (Num) and key order."""
    return json.loads(text, parse_float=Num, parse_int=Num)


def fleet_exact(sim):
    """The simulator's ground truth with numbers as sent (GET /_sim/fleet)."""
    status, _, body = sim.request("GET", "/_sim/fleet")
    assert status == 200, status
    return load_exact(body)


def raw_name(value):
    """The API's name as text: a string, or a number's text; None when missing/other."""
    if isinstance(value, str):  # Num included: its exact text
        return str(value)
    return None


def cut_utf8(s, max_bytes):
    b = s.encode("utf-8", "surrogatepass")
    if len(b) <= max_bytes:
        return s
    b = b[:max_bytes]
    # never end inside a multi-byte sequence
    i = len(b)
    while i > 0 and (b[i - 1] & 0xC0) == 0x80:
        i -= 1
    if i > 0 and b[i - 1] >= 0xC0:
        lead = b[i - 1]
        need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if len(b) - (i - 1) < need:
            b = b[: i - 1]
    return b.decode("utf-8", "surrogatepass")


def assign_names(slots):
    """slots: list of (raw_name, id, suffix) -> list of final names (same order)."""
    bases, ids = [], []
    for name, ident, suffix in slots:
        sid = sanitize(ident)
        if name is None or name in ("", ".", ".."):
            bases.append(sid)
        else:
            bases.append(sanitize(name))
        ids.append(sid)

    def plain(i):
        suffix = slots[i][2]
        return cut_utf8(bases[i], NAME_MAX - len(suffix.encode())) + suffix

    def suffixed(i):
        suffix = slots[i][2]
        tail = "@" + ids[i]
        return cut_utf8(bases[i], NAME_MAX - len(tail.encode()) - len(suffix.encode())) + tail + suffix

    at = [False] * len(slots)
    while True:
        finals = [suffixed(i) if at[i] else plain(i) for i in range(len(slots))]
        count = {}
        for f in finals:
            count[f] = count.get(f, 0) + 1
        changed = False
        for i, f in enumerate(finals):
            if count[f] > 1 and not at[i]:
                at[i] = True
                changed = True
        if not changed:
            return finals


def pretty(v, ind=0):
    """DESIGN.md's layout: two-space indent, "key": value, UTF-8, numbers as sent."""
    pad = " " * (ind + 2)
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is True or v is False or v is None:
        return {True: "true", False: "false", None: "null"}[v]
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [pad + json.dumps(k, ensure_ascii=False) + ": " + pretty(x, ind + 2) for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * ind + "}"
    if not v:
        return "[]"
    return "[\n" + ",\n".join(pad + pretty(x, ind + 2) for x in v) + "\n" + " " * ind + "]"


def render(record):
    return (pretty(record) + "\n").encode("utf-8")


_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r" ?(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def _offset_seconds(zone):
    if zone is None or zone == "Z":
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    return sign * (hours * 3600 + minutes * 60)


def parse_time(text, zone_field=None):
    """UTC epoch seconds, or 0 when missing or unparsable (DESIGN.md "Times")."""
    if not isinstance(text, str):
        return 0
    m = _TIME_RE.match(text.strip())
    if not m:
        return 0
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        dt = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc)
    except ValueError:
        return 0
    offset = _offset_seconds(m.group(8))
    if m.group(8) is None and isinstance(zone_field, str):
        zm = re.match(r"^(?:UTC|GMT)?\s*([+-]\d{1,2})(?::?(\d{2}))?$", zone_field.strip())
        if zm:
            hours = int(zm.group(1))
            minutes = int(zm.group(2) or 0)
            offset = hours * 3600 + (minutes * 60 if hours >= 0 else -minutes * 60)
            if zm.group(1).startswith("-") and hours == 0:
                offset = -minutes * 60
    return int(dt.timestamp()) - offset


def backup_times(service, rec, project_wide=False):
    """(start, finish) of a backup record per service (project_wide: a record of TaurusDB's
    project-wide list, which has begin_time/end_time like the later services)."""
    if service == "taurusdb" and not project_wide:
        tz = rec.get("time_zone")
        return parse_time(rec.get("created"), tz), parse_time(rec.get("updated"), tz)
    if service == "ddm":
        return parse_time(rec.get("created")), parse_time(rec.get("updated"))
    # GeminiDB, RDS, GaussDB: an offset in the text; DDS: UTC without a zone.
    return parse_time(rec.get("begin_time")), parse_time(rec.get("end_time"))


def instance_mtime(inst):
    t = parse_time(inst.get("updated"))
    return t if t else parse_time(inst.get("created"))


class Node:
    def __init__(self, kind, mtime=None, content=None, atime=None, record=None):
        self.kind = kind  # "dir" or "file"
        self.mtime = mtime  # None: the mount time
        self.atime = atime
        self.content = content
        self.record = record


def _merge_by_id(records):
    """One record per ID, the later one kept (in the first one's place)."""
    out = {}
    for rec in records:
        out[rec.get("id")] = rec
    return list(out.values())


def expected_tree(fleet, services=SERVICES, projects=None):
    """{relative path: Node}; the root is ''."""
    tree = {"": Node("dir")}
    plist = [p for p in fleet["projects"] if p["record"].get("name") != "MOS"]
    pslots = [(raw_name(p["record"].get("name")), p["record"]["id"], "") for p in plist]
    for p, pname in zip(plist, assign_names(pslots)):
        shown = p["record"].get("name") or p["record"]["id"]
        if projects is not None and shown not in projects:
            continue
        tree[pname] = Node("dir")
        for svc in services:
            spath = pname + "/" + svc
            tree[spath] = Node("dir")
            data = p.get(svc, {})
            _service(tree, spath, svc, data)
    return tree


def _deleted_groups(svc, data, listed):
    """{instance id: records} of the backups whose instance is not listed.  Project-wide
    services find them in their backup list; TaurusDB in its project-wide list, asked for
    manual backups only (automated ones go with their instance); RDS cannot list them."""
    if svc == "taurusdb":
        recs = [r for r in _merge_by_id(data.get("project_backups", [])) if r.get("type") == "manual"]
    elif svc in PER_INSTANCE:
        return {}
    else:
        recs = _merge_by_id(data.get("backups", []) + data.get("table_backups", []))
    groups = {}
    for rec in recs:
        iid = rec.get("instance_id") or ""
        if iid not in listed:
            groups.setdefault(iid, []).append(rec)
    return groups


def _service(tree, spath, svc, data):
    instances = data.get("instances", [])
    backups = _merge_by_id(data.get("backups", []) + data.get("table_backups", []))
    groups = {}
    for rec in backups:
        groups.setdefault(rec.get("instance_id") or "", []).append(rec)
    listed = {i["id"] for i in instances}
    entries = []  # (raw name, id, mtime, backups, project_wide)
    for inst in instances:
        entries.append((raw_name(inst.get("name")), inst["id"], instance_mtime(inst), groups.get(inst["id"], []), False))
    wide = svc == "taurusdb"
    for iid, recs in _deleted_groups(svc, data, listed).items():
        latest = max(recs, key=lambda r: (backup_times(svc, r, wide)[1], r.get("id")))
        ident = iid or NO_INSTANCE_ID
        entries.append((raw_name(latest.get("instance_name")), ident, 0, recs, wide))
    names = assign_names([(n, i, "") for n, i, _, _, _ in entries])
    for (n, ident, mtime, recs, wide), name in zip(entries, names):
        ipath = spath + "/" + name
        tree[ipath] = Node("dir", mtime=mtime or None)
        bnames = assign_names([(raw_name(r.get("name")), r["id"], ".json") for r in recs])
        for rec, bname in zip(recs, bnames):
            start, finish = backup_times(svc, rec, wide)
            tree[ipath + "/" + bname] = Node("file", mtime=finish, atime=start, content=render(rec), record=rec)


def pages(n, limit):
    return max(1, -(-n // limit))


def minimal_calls(fleet, services=SERVICES):
    """Per-route request counts of one cold walk of the whole tree (project list primed)."""
    routes = {}

    def add(route, n):
        routes[route] = routes.get(route, 0) + n

    def ddm_pages(n):
        # DDM's offset may be a page number: past one page, one probe tells (paginate.h)
        p = pages(n, PAGE_LIMIT["ddm"])
        return p + 1 if p > 1 else p

    for p in fleet["projects"]:
        if p["record"].get("name") == "MOS":
            continue
        for svc in services:
            data = p.get(svc, {})
            insts = data.get("instances", [])
            add(f"{svc}.instances", ddm_pages(len(insts)) if svc == "ddm" else pages(len(insts), PAGE_LIMIT[svc]))
            if svc in PER_INSTANCE:
                for inst in insts:
                    n = sum(1 for b in data.get("backups", []) if b.get("instance_id") == inst["id"])
                    add(f"{svc}.backups", pages(n, PAGE_LIMIT[svc]))
            elif svc == "geminidb":
                add("geminidb.backups", pages(len(data.get("backups", [])), 100))
                add("geminidb.backups", pages(len(data.get("table_backups", [])), 100))
            elif svc == "ddm":
                add("ddm.backups", ddm_pages(len(data.get("backups", []))))
            else:
                add(f"{svc}.backups", pages(len(data.get("backups", [])), PAGE_LIMIT[svc]))
            if svc == "taurusdb":
                # the deleted instances' list: one more listing, manual backups only
                manual = [r for r in data.get("project_backups", []) if r.get("type") == "manual"]
                add("taurusdb.project_backups", pages(len(manual), 100))
    return routes
