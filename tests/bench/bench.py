#!/usr/bin/env python3
"""Benchmark: the mount against its own baselines, side by side in one run.

  python3 tests/bench/bench.py [--projects N --instances N --backups N] [--latency-ms N]
                               [--max-conns N] [--repeat N] [--generations N]

Baselines it makes itself:
- a tmpfs copy of the mounted tree (/dev/shm), for the warm walks and tab completion;
- a replay floor: the API requests of the cold walk (as cloudsim logged them) replayed
  over max_conns keep-alive connections with no FUSE and no dependencies between them,
  i.e. what the cold walk would cost if only the network mattered.
It prints ratios, FUSE requests per file on a warm walk (from the daemon's own counters,
the root's user.dbbackupfs.opstats attribute), the API calls against the minimal number,
daemon RSS per backup, and RSS over `--generations` ttl generations of `ls` over every
instance directory.  It asserts nothing (timing belongs here, not in tests).

Defaults: 1 project x 6 services x 5 instances x 1,000 backups = 30,000 backups (instance
directories of ~1,000 entries), 20 ms latency per API request, max_conns=8.
Environment: DBBACKUPFS and CLOUDSIM (defaults: build/fs/dbbackupfs,
build/tests/cloudsim/cloudsim).
"""

import argparse
import http.client
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from cloudsim import CloudSim  # noqa: E402
from mount import Mount, fuse_available  # noqa: E402
from test_mount import minimal_calls  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BINARY = os.environ.get("DBBACKUPFS", os.path.join(ROOT, "build", "fs", "dbbackupfs"))
os.environ.setdefault("CLOUDSIM", os.path.join(ROOT, "build", "tests", "cloudsim", "cloudsim"))

WALK = "find {d} -type f -print0 | xargs -0 cat | wc -c"
GREP = "grep -rl '\"status\": \"FAILED\"' {d} | wc -l"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd):
    t0 = time.monotonic()
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, check=True)
    return time.monotonic() - t0, out.stdout.strip()


def median_time(cmd, repeat):
    return statistics.median(timed(cmd)[0] for _ in range(repeat))


def opstats(m):
    text = os.getxattr(m.dir, "user.dbbackupfs.opstats").decode()
    return {k: int(v) for k, v in (line.split() for line in text.splitlines())}


def compgen_p99(directory, prefix, n=300):
    """p99 of one `compgen -f` over directory/prefix*, timed inside one bash."""
    script = ('d=$1; p=$2; for ((i = 0; i < $3; i++)); do s=$EPOCHREALTIME; '
              'compgen -f -- "$d/$p" > /dev/null; e=$EPOCHREALTIME; echo "$s $e"; done')
    out = subprocess.run(["bash", "-c", script, "_", directory, prefix, str(n)],
                         capture_output=True, text=True, check=True).stdout
    lat = sorted(float(e) - float(s) for s, e in (line.split() for line in out.splitlines()))
    return lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def replay(sim, requests, conns):
    """Wall time of the same GETs over `conns` keep-alive connections, no FUSE."""
    work = queue.Queue()
    for r in requests:
        parts = r["path"].split("/")
        # /<service>/v<N>/<project_id>/...: the project's token
        pid = parts[3] if len(parts) > 3 else ""
        url = r["path"] + ("?" + r["query"] if r.get("query") else "")
        work.put((url, {"X-Auth-Token": CloudSim.token(pid)}))
    errors = []

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=60)
        while True:
            try:
                url, headers = work.get_nowait()
            except queue.Empty:
                break
            c.request("GET", url, headers=headers)
            resp = c.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append((url, resp.status))
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, errors


def biggest_dir(root):
    """The directory with the most entries under root, and a prefix of its middle name that
    a few (up to 10) of them share, as a user types before pressing Tab."""
    best, n = None, -1
    for d, dirs, files in os.walk(root):
        if len(files) > n:
            best, n = d, len(files)
    names = sorted(os.listdir(best))
    mid = names[len(names) // 2]
    prefix = mid
    for k in range(1, len(mid) + 1):
        if sum(1 for x in names if x.startswith(mid[:k])) <= 10:
            prefix = mid[:k]
            break
    return os.path.relpath(best, root), prefix, n


def generations(sim, a):
    """RSS after each of a.generations ttl windows, each `ls`-ing every instance directory."""
    rss = []
    with Mount(BINARY, sim, options={"max_conns": str(a.max_conns), "ttl": "1"}) as m:
        for _ in range(a.generations):
            subprocess.run(f"find {m.dir} -mindepth 3 -maxdepth 3 -type d -print0 | "
                           f"xargs -0 ls > /dev/null", shell=True, check=True)
            rss.append(rss_kib(m.proc.pid))
            time.sleep(1.05)
    return rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=1)
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--backups", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--max-conns", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--generations", type=int, default=20)
    ap.add_argument("--only-generations", action="store_true", help="skip the walks")
    a = ap.parse_args()
    if not fuse_available():
        print("FUSE is not available: nothing to measure")
        return 77
    args = ["--seed", "2026", "--projects", str(a.projects), "--instances", str(a.instances),
            "--backups", str(a.backups), "--latency-ms", str(a.latency_ms)]
    tmp = tempfile.mkdtemp(prefix="dbb-bench-", dir="/dev/shm")
    copy = os.path.join(tmp, "tree")
    r = {}
    try:
        with CloudSim(args) as sim:
            fleet = sim.fleet()
            want = sum(minimal_calls(fleet).values())
            if a.only_generations:
                gens = generations(sim, a)
                print(f"RSS over {len(gens)} ttl generations (MiB): "
                      f"{' '.join(str(round(x / 1024)) for x in gens)}")
                return 0
            with Mount(BINARY, sim, options={"max_conns": str(a.max_conns), "ttl": "3600"}) as m:
                r["rss0"] = rss_kib(m.proc.pid)
                sim.reset_counts()
                c0 = opstats(m)
                perf = None
                if os.environ.get("DBB_BENCH_PERF"):  # profile the daemon over the cold walk
                    perf = subprocess.Popen(["perf", "record", "-g", "-q", "-o",
                                             os.environ["DBB_BENCH_PERF"], "-p", str(m.proc.pid)])
                    time.sleep(0.5)
                cpu0 = cpu_s(m.proc.pid)
                r["cold"], nbytes = timed(WALK.format(d=m.dir))
                r["cold_cpu"] = cpu_s(m.proc.pid) - cpu0
                if perf:
                    perf.send_signal(2)
                    perf.wait()
                r["calls"] = sim.counts()["total"]
                c1 = opstats(m)
                cold_ops = {k: c1[k] - c0[k] for k in c1 if c1[k] != c0[k]}
                reqs = sim.requests()
                nfiles = int(timed(f"find {m.dir} -type f | wc -l")[1])
                shutil.copytree(m.dir, copy)
                sim.reset_counts()
                s0 = opstats(m)
                timed(WALK.format(d=m.dir))
                s1 = opstats(m)
                per_file = {k: s1[k] - s0[k] for k in s1 if s1[k] != s0[k]}
                r["warm_calls"] = sim.counts()["total"]
                for name, cmd in (("walk", WALK), ("grep", GREP)):
                    r[name] = median_time(cmd.format(d=m.dir), a.repeat)
                    r[name + "_tmpfs"] = median_time(cmd.format(d=copy), a.repeat)
                rel, prefix, entries = biggest_dir(copy)
                r["compgen"] = compgen_p99(m.path(rel), prefix)
                r["compgen_tmpfs"] = compgen_p99(os.path.join(copy, rel), prefix)
                r["rss1"] = rss_kib(m.proc.pid)
            r["floor"], errors = replay(sim, reqs, a.max_conns)
            gens = generations(sim, a) if a.generations else []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    nback = nfiles
    fuse_per_file = sum(v for k, v in per_file.items()
                        if k not in ("opendir", "releasedir", "statfs", "getxattr", "forget"))
    print(f"fleet: {a.projects} projects x 6 services x {a.instances} instances x {a.backups} backups "
          f"(+ extras): {nfiles} files, {int(nbytes)} bytes; latency {a.latency_ms} ms/request; "
          f"max_conns {a.max_conns}")
    print(f"{'':44s} {'mount':>10s} {'baseline':>10s} {'ratio':>7s}  target")
    print(f"{'warm find|xargs cat (s) vs tmpfs':44s} {r['walk']:10.3f} {r['walk_tmpfs']:10.3f} "
          f"{r['walk'] / r['walk_tmpfs']:6.2f}x  <= 1.3x")
    print(f"{'warm grep -rl FAILED (s) vs tmpfs':44s} {r['grep']:10.3f} {r['grep_tmpfs']:10.3f} "
          f"{r['grep'] / r['grep_tmpfs']:6.2f}x  <= 1.5x")
    print(f"{f'compgen -f p99 ({entries} entries, ms) vs tmpfs':44s} {r['compgen'] * 1e3:10.3f} "
          f"{r['compgen_tmpfs'] * 1e3:10.3f} {r['compgen'] / r['compgen_tmpfs']:6.2f}x  <= 1.5x")
    print(f"{'cold find|xargs cat (s) vs replay floor':44s} {r['cold']:10.3f} {r['floor']:10.3f} "
          f"{r['cold'] / r['floor']:6.2f}x  <= 1.5x"
          + (f"  ({len(errors)} replay errors)" if errors else ""))
    print(f"{'daemon CPU over the cold walk (s)':44s} {r['cold_cpu']:10.2f}")
    print(f"{'FUSE requests, cold walk':44s} {sum(cold_ops.values()):10d} {'':10s} {'':7s}  "
          f"({cold_ops})")
    print(f"{'API calls, cold walk vs minimal':44s} {r['calls']:10d} {want:10d} "
          f"{r['calls'] / want:6.2f}x  = 1.00x")
    print(f"{'API calls, warm walk':44s} {r['warm_calls']:10d}")
    print(f"{'FUSE requests per file, warm walk':44s} {fuse_per_file / nfiles:10.4f} "
          f"{'':10s} {'':7s}  0   (all: {per_file})")
    print(f"{'daemon RSS per backup (KB), after the walks':44s} "
          f"{r['rss1'] * 1.024 / nback:10.3f} {'':10s} {'':7s}  <= 1.3 (at 300k); "
          f"{r['rss0'] / 1024:.1f} MiB at mount, {r['rss1'] / 1024:.1f} MiB after")
    if gens:
        # From the 6th: by then the allocator holds its high-water mark of two overlapping
        # generations (the new listing is parsed while the old one is still served).
        steady = gens[5:] or gens
        mid = statistics.median(steady)
        spread = max(abs(x - mid) for x in steady) / mid * 100
        print(f"{f'RSS over {len(gens)} ttl generations (MiB)':44s} "
              f"{min(steady) / 1024:10.1f} {max(steady) / 1024:10.1f} {spread:6.1f}%   "
              f"within +-5% (min, max, largest deviation from the median, from gen 6)")
        print(f"{'':44s} {' '.join(str(round(x / 1024)) for x in gens)}")
    return 0 if fleet else 1


if __name__ == "__main__":
    sys.exit(main())
