#!/usr/bin/env python3
"""soak.py [--seconds N]: a mount under faults, four walkers and a reader, for N seconds.

cloudsim answers 20 % of API requests with 500, 10 % with 429, truncates 5 % of bodies and
resets 5 % of connections; dbbackupfs runs with ttl=1 so every listing is fetched again and
again.  Four threads walk the whole tree; each walk that completes (no EIO) must show
exactly the paths of cloudsim's ground truth (/_sim/fleet): a short listing is a failure, an
EIO is not.  A fifth thread flips one backup's status in the ground truth and a sixth reads
that backup's file, which must always be one of the two versions, byte for byte.  At the
end: the daemon is alive, its fd and thread counts are flat and its RSS grew < 10 % after
warm-up.  $DBBACKUPFS and $CLOUDSIM name the binaries.  Exit 0 on success, 77 without FUSE.
"""
import argparse
import errno
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cloudsim import CloudSim  # noqa: E402
from expected import expected_tree, fleet_exact, load_exact  # noqa: E402
from mount import Mount, fuse_available  # noqa: E402

FAULTS = dict(error_rate=0.20, throttle_rate=0.10, truncate_rate=0.05, reset_rate=0.05)
WALKERS = 4
SOCKETS_MAX = 3 * 8  # max_conns=8 pooled handles: a connection and a resolver socket pair
THREAD_SLACK = 12  # libfuse's worker threads come and go (max_idle_threads=10)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.walks = self.eio_walks = self.reads = self.eio_reads = self.partial_walks = 0
        self.failures = []

    def fail(self, msg):
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(msg)


def walk(root):
    """Every path under root, or None when a directory or stat answered EIO."""
    seen = {""}
    todo = [""]
    while todo:
        rel = todo.pop()
        try:
            names = os.listdir(os.path.join(root, rel))
        except OSError as e:
            if e.errno == errno.EIO:
                return None
            raise
        for n in names:
            path = n if rel == "" else rel + "/" + n
            seen.add(path)
            try:
                if os.path.isdir(os.path.join(root, path)) and not os.path.islink(os.path.join(root, path)):
                    todo.append(path)
            except OSError as e:
                if e.errno == errno.EIO:
                    return None
                raise
    return seen


def walker(m, expected_paths, stats, stop):
    while not stop.is_set():
        try:
            got = walk(m.dir)
        except OSError as e:
            stats.fail("walk: %s" % e)
            continue
        with stats.lock:
            stats.walks += 1
            if got is None:
                stats.eio_walks += 1
        if got is not None and got != expected_paths:
            with stats.lock:
                stats.partial_walks += 1
            missing = sorted(expected_paths - got)[:5]
            extra = sorted(got - expected_paths)[:5]
            stats.fail("partial walk: missing %s extra %s" % (missing, extra))


def flipper(sim, versions, stop):
    i = 0
    while not stop.wait(0.7):
        i += 1
        sim.post("/_sim/fleet", versions[i % 2])


def reader(m, path, contents, stats, stop):
    while not stop.is_set():
        try:
            with open(m.path(path), "rb") as f:
                data = f.read()
        except OSError as e:
            with stats.lock:
                stats.reads += 1
                if e.errno == errno.EIO:
                    stats.eio_reads += 1
                    continue
            stats.fail("read %s: %s" % (path, e))
            time.sleep(0.05)
            continue
        with stats.lock:
            stats.reads += 1
        if data not in contents:
            stats.fail("read %s: neither version (%d bytes)" % (path, len(data)))
        time.sleep(0.05)


def proc_figures(pid):
    status = open("/proc/%d/status" % pid).read()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    kinds = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd)).split(":")[0]
        except OSError:
            continue
        kinds[target] = kinds.get(target, 0) + 1
    return {"fds": sum(kinds.values()), "fd_kinds": kinds,
            "threads": int(fields["Threads"]),
            "rss_kb": int(fields["VmRSS"].split()[0]),
            "anon_kb": int(fields["RssAnon"].split()[0]),
            "file_kb": int(fields["RssFile"].split()[0])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    # For finding where a growth comes from: leave out one ingredient.
    ap.add_argument("--no-faults", action="store_true")
    ap.add_argument("--no-flip", action="store_true")
    # Proves the check can fail: after warm-up a backup vanishes from the ground truth while
    # the walkers still expect it, so every later complete walk is "short"; exit 0 only if
    # the soak says so.
    ap.add_argument("--selfcheck", action="store_true")
    args = ap.parse_args()
    if not fuse_available():
        print("soak: FUSE not available: skipped")
        return 77
    binary = os.environ["DBBACKUPFS"]
    stats = Stats()
    with CloudSim(["--projects", "2", "--instances", "3", "--backups", "4"]) as sim:
        status, _, original = sim.request("GET", "/_sim/fleet")
        assert status == 200
        doc = load_exact(original)
        expected = expected_tree(doc)
        expected_paths = set(expected)
        # The record that changes: a DDM backup; its status flips between two spellings.
        path, node = next((p, n) for p, n in expected.items()
                          if n.kind == "file" and "/ddm/" in p and n.record.get("status") == "normal")
        at = original.index(('"id":"%s"' % node.record["id"]).encode())
        st = original.index(b'"status":"normal"', at)
        changed = original[:st] + b'"status":"soak-flip"' + original[st + len(b'"status":"normal"'):]
        other = expected_tree(load_exact(changed))[path]
        contents = {node.content.encode() if isinstance(node.content, str) else node.content,
                    other.content.encode() if isinstance(other.content, str) else other.content}

        with Mount(binary, sim, options={"ttl": "1", "negative_ttl": "1", "timeout": "20"}) as m:
            if not args.no_faults:
                sim.set_faults(**FAULTS)
            stop = threading.Event()
            threads = [threading.Thread(target=walker, args=(m, expected_paths, stats, stop))
                       for _ in range(WALKERS)]
            if not args.no_flip:
                threads.append(threading.Thread(target=flipper, args=(sim, (original, changed), stop)))
            threads.append(threading.Thread(target=reader, args=(m, path, contents, stats, stop)))
            for t in threads:
                t.daemon = True
                t.start()
            warm = min(15.0, args.seconds / 4)
            time.sleep(warm)
            if args.selfcheck:
                shorter = sim.fleet()
                backups = shorter["projects"][0]["ddm"]["backups"]
                gone = next(b for b in backups if b["id"] != node.record["id"])
                backups[:] = [b for b in backups if b["id"] != gone["id"]]
                sim.set_fleet(shorter)
                print("soak: selfcheck: backup %s removed from the ground truth" % gone["id"])
            start = proc_figures(m.proc.pid)
            peak = dict(start)
            samples = [start]
            end_at = time.monotonic() + args.seconds - warm
            while time.monotonic() < end_at and m.alive():
                time.sleep(1)
                if m.alive():
                    now = proc_figures(m.proc.pid)
                    peak = {k: max(peak[k], now[k]) for k in ("fds", "threads", "rss_kb")}
                    samples.append(now)
            alive = m.alive()
            end = proc_figures(m.proc.pid) if alive else None
            if alive and len(samples) > 5:
                # An instant's fd and thread counts include connections and FUSE workers
                # that come and go: the end figure is the least of the last five samples.
                end["threads"] = min(smp["threads"] for smp in samples[-5:])
            stop.set()
            for t in threads:
                t.join(60)
            sim.set_faults(error_rate=0, throttle_rate=0, truncate_rate=0, reset_rate=0)
            sim.post("/_sim/fleet", original)
            counts = sim.counts()

    print("soak: %.0f s, %d walks (%d with EIO, %d complete, %d partial), %d reads (%d EIO), "
          "%d API requests, faults %s"
          % (args.seconds, stats.walks, stats.eio_walks, stats.walks - stats.eio_walks,
             stats.partial_walks, stats.reads, stats.eio_reads, counts["total"],
             counts.get("faults")))
    if end is not None:
        print("soak: fds %d -> %d (peak %d), threads %d -> %d (peak %d), RSS %d -> %d KiB (%+.1f %%; "
              "anon %d -> %d KiB)"
              % (start["fds"], end["fds"], peak["fds"], start["threads"], end["threads"],
                 peak["threads"], start["rss_kb"], end["rss_kb"],
                 100.0 * (end["rss_kb"] - start["rss_kb"]) / start["rss_kb"], start["anon_kb"],
                 end["anon_kb"]))
        if os.environ.get("SOAK_VERBOSE"):
            for smp in samples:
                print("soak: sample fds %d threads %d rss %d KiB (anon %d, file %d)"
                      % (smp["fds"], smp["threads"], smp["rss_kb"], smp["anon_kb"], smp["file_kb"]))
    if args.selfcheck:
        caught = stats.partial_walks > 0
        print("soak: selfcheck: the short listing was %s" % ("reported" if caught else "NOT reported"))
        return 0 if caught else 1
    problems = list(stats.failures)
    if not alive:
        problems.append("the daemon died: " + m.output()[-2000:])
    else:
        # Sockets belong to the connection pool (a connection and libcurl's resolver pair
        # for each of max_conns handles): bounded, not flat.  Every other fd must be.
        plain = lambda f: f["fds"] - f["fd_kinds"].get("socket", 0)  # noqa: E731
        if plain(end) > plain(start) or end["fd_kinds"].get("socket", 0) > SOCKETS_MAX:
            problems.append("fds grew %d -> %d: %s" % (start["fds"], end["fds"], end["fd_kinds"]))
        if end["threads"] > start["threads"] + THREAD_SLACK:
            problems.append("threads grew %d -> %d" % (start["threads"], end["threads"]))
        if end["rss_kb"] > start["rss_kb"] * 1.10:
            problems.append("RSS grew %d -> %d KiB" % (start["rss_kb"], end["rss_kb"]))
    if stats.walks - stats.eio_walks == 0:
        problems.append("no walk completed: nothing was compared")
    for p in problems:
        print("soak: FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
