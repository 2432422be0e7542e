#!/usr/bin/env python3
"""Benchmark: what a cold and a warm walk of the mount cost, in API calls, wall time and
daemon memory.  Prints figures; asserts nothing (timing belongs here, not in unit tests).

  python3 tests/bench/bench.py [--projects N --instances N --backups N] [--latency-ms N]

Environment: DBBACKUPFS and CLOUDSIM (defaults: build/fs/dbbackupfs, build/tests/cloudsim/cloudsim).
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from cloudsim import CloudSim  # noqa: E402
from mount import Mount, fuse_available  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BINARY = os.environ.get("DBBACKUPFS", os.path.join(ROOT, "build", "fs", "dbbackupfs"))
os.environ.setdefault("CLOUDSIM", os.path.join(ROOT, "build", "tests", "cloudsim", "cloudsim"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def timed(cmd):
    t0 = time.monotonic()
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, check=True)
    return time.monotonic() - t0, out.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=2)
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--backups", type=int, default=6)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--max-conns", type=int, default=8)
    a = ap.parse_args()
    if not fuse_available():
        print("FUSE is not available: nothing to measure")
        return 77
    args = ["--seed", "2026", "--projects", str(a.projects), "--instances", str(a.instances),
            "--backups", str(a.backups), "--latency-ms", str(a.latency_ms)]
    t0 = time.monotonic()
    with CloudSim(args) as sim:
        ready = time.monotonic() - t0
        fleet = sim.fleet()
        with Mount(BINARY, sim, options={"max_conns": str(a.max_conns)}) as m:
            rss0 = rss_kib(m.proc.pid)
            sim.reset_counts()
            walk = f"find {m.dir} -type f -print0 | xargs -0 cat | wc -c"
            cold_t, nbytes = timed(walk)
            cold_calls = sim.counts()["total"]
            nfiles = int(timed(f"find {m.dir} -type f | wc -l")[1])
            sim.reset_counts()
            warm_t, _ = timed(walk)
            warm_calls = sim.counts()["total"]
            rss1 = rss_kib(m.proc.pid)
    print(f"fleet: {a.projects} projects x 3 services x {a.instances} instances x {a.backups} backups "
          f"(+ extras): {nfiles} files, {int(nbytes)} bytes; simulator ready in {ready:.2f} s; "
          f"latency {a.latency_ms} ms/request; max_conns {a.max_conns}")
    print(f"cold find|xargs cat: {cold_t:.3f} s, {cold_calls} API calls")
    print(f"warm find|xargs cat: {warm_t:.3f} s, {warm_calls} API calls")
    print(f"daemon RSS: {rss0 / 1024:.1f} MiB after mount, {rss1 / 1024:.1f} MiB after both walks")
    return 0 if fleet else 1


if __name__ == "__main__":
    sys.exit(main())
