#!/usr/bin/env python3
"""Integration tests of the kernel caches (issue 6): warm walks cost no daemon round trip per
file, and a refresh tells the kernel exactly what changed, so nothing stale is read after ttl.

Real mounts through /dev/fuse against cloudsim; the daemon's own request counters are read
from the root's user.dbbackupfs.opstats attribute.  Exit 77 only when FUSE is absent.
Environment: DBBACKUPFS, CLOUDSIM; optional DBB_ONLY=a,b.
"""

import errno
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cloudsim import CloudSim  # noqa: E402
from expected import expected_tree, fleet_exact  # noqa: E402
from mount import Mount, MountError, in_mount_table  # noqa: E402
from runner import run_tests  # noqa: E402

BINARY = os.environ.get("DBBACKUPFS", "dbbackupfs")
SIM_ARGS = ["--seed", "11", "--projects", "2", "--instances", "3", "--backups", "5"]
PER_FILE_OPS = ("lookup", "getattr", "open", "read", "flush", "release")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)


def opstats(m):
    text = os.getxattr(m.dir, "user.dbbackupfs.opstats").decode()
    return {k: int(v) for k, v in (line.split() for line in text.splitlines())}


def delta(after, before):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def raw_fleet(sim):
    return sim.request("GET", "/_sim/fleet")[2]


def patch_record(body, rec_id, old, new):
    """The fleet bytes with `old` replaced by `new` inside the record whose id is rec_id
    (edited as bytes, so every other number keeps its spelling)."""
    at = body.index(('"id":"%s"' % rec_id).encode())
    end = body.index(b'"id":"', at + 6) if b'"id":"' in body[at + 6:] else len(body)
    pos = body.index(old.encode(), at)
    assert pos < end, (rec_id, old)
    return body[:pos] + new.encode() + body[pos + len(old):]


def file_of(doc, pred):
    """(path, record) of the first backup file whose record satisfies pred."""
    for path, node in sorted(expected_tree(doc).items()):
        if node.kind == "file" and pred(node.record):
            return path, node.record
    raise AssertionError("no such record in the fleet")


def wait_past_ttl(ttl=1.0):
    time.sleep(ttl + 0.3)


# ---------------------------------------------------------------------------- tests


def test_warm_walk_no_requests_per_file(sim):
    fleet = sim.fleet()
    with Mount(BINARY, sim) as m:
        walk = f"find {m.dir} -type f -print0 | xargs -0 cat | wc -c"
        cold = sh(walk)
        assert cold.returncode == 0 and int(cold.stdout) > 0, cold
        nfiles = int(sh(f"find {m.dir} -type f | wc -l").stdout)
        ndirs = int(sh(f"find {m.dir} -type d | wc -l").stdout)
        assert nfiles > 50, nfiles
        sim.reset_counts()
        before = opstats(m)
        warm = sh(walk)
        grep = sh(f"grep -rl '\"status\": \"FAILED\"' {m.dir}")
        after = opstats(m)
        assert warm.stdout == cold.stdout
        assert grep.returncode in (0, 1), grep
        assert sim.counts()["total"] == 0, sim.counts()["routes"]
        d = delta(after, before)
        assert d.pop("getxattr", 0) <= 2, d  # reading `after` (Python may ask twice: ERANGE)
        d.pop("statfs", None)  # find and grep ask once per walk, not per file
        per_file = {k: d.get(k, 0) for k in PER_FILE_OPS}
        assert per_file == {k: 0 for k in PER_FILE_OPS}, d
        # directories come from the kernel's readdir cache: no READDIR at all, and one
        # OPENDIR/RELEASEDIR per directory and walk at most (two walks: find+cat, grep)
        assert d.get("readdir", 0) == 0 and d.get("readdirplus", 0) == 0, d
        assert d.get("opendir", 0) <= 2 * ndirs + 2, (d, ndirs)
        total = sum(v for k, v in d.items() if k not in ("opendir", "releasedir", "forget"))
        assert total == 0, d
    assert fleet


def test_same_size_change_reads_new_after_ttl(sim):
    body = raw_fleet(sim)
    doc = fleet_exact(sim)
    path, rec = file_of(doc, lambda r: r.get("status") == "normal" and "file_size" in r)
    try:
        with Mount(BINARY, sim, options={"ttl": "1"}) as m:
            f = m.path(path)
            before = open(f, "rb").read()
            st0 = os.stat(f)
            assert b'"status": "normal"' in before
            # a second read comes from the page cache: no READ reaches the daemon
            s0 = opstats(m)
            assert open(f, "rb").read() == before
            assert delta(opstats(m), s0).get("read", 0) == 0
            # same size, same times: only the letters change
            sim.post("/_sim/fleet", patch_record(body, rec["id"], '"status":"normal"', '"status":"FAILED"'))
            assert open(f, "rb").read() == before  # within ttl: as cached
            wait_past_ttl()
            after = open(f, "rb").read()  # cat: the first access after ttl
            assert b'"status": "FAILED"' in after, after
            assert len(after) == len(before)
            st1 = os.stat(f)
            assert (st1.st_size, st1.st_mtime, st1.st_ino) == (st0.st_size, st0.st_mtime, st0.st_ino)
            # grep as the first access after the next change
            sim.post("/_sim/fleet", patch_record(body, rec["id"], '"status":"normal"', '"status":"FAULTY"'))
            wait_past_ttl()
            hits = sh(f"grep -rl '\"status\": \"FAULTY\"' {m.dir}").stdout.splitlines()
            assert hits == [f], hits
            # stat first, then cat
            sim.post("/_sim/fleet", patch_record(body, rec["id"], '"status":"normal"', '"status":"normaL"'))
            wait_past_ttl()
            assert os.stat(f).st_size == len(before)
            assert b'"status": "normaL"' in open(f, "rb").read()
    finally:
        sim.post("/_sim/fleet", body)


def test_size_change_reads_new_after_ttl(sim):
    body = raw_fleet(sim)
    doc = fleet_exact(sim)
    path, rec = file_of(doc, lambda r: r.get("status") == "normal" and "file_size" in r)
    try:
        with Mount(BINARY, sim, options={"ttl": "1"}) as m:
            f = m.path(path)
            before = open(f, "rb").read()
            longer = '"status":"normal, and then some more letters"'
            sim.post("/_sim/fleet", patch_record(body, rec["id"], '"status":"normal"', longer))
            wait_past_ttl()
            after = open(f, "rb").read()
            assert b'"status": "normal, and then some more letters"' in after, after
            assert os.stat(f).st_size == len(after) == len(before) + len(longer) - len('"status":"normal"')
            assert sh(f"wc -c < '{f}'").stdout.strip() == str(len(after))
            sim.post("/_sim/fleet", body)
            wait_past_ttl()
            assert os.stat(f).st_size == len(before)
            assert open(f, "rb").read() == before
    finally:
        sim.post("/_sim/fleet", body)


def drop_backup(doc, svc, rec_id):
    for p in doc["projects"]:
        data = p.get(svc)
        if data:
            data["backups"] = [b for b in data["backups"] if b.get("id") != rec_id]
    return doc


def test_backup_vanishes_and_appears(sim):
    body = raw_fleet(sim)
    doc = fleet_exact(sim)
    path, rec = file_of(doc, lambda r: "file_size" in r)  # a DDM backup
    try:
        with Mount(BINARY, sim, options={"ttl": "1"}) as m:
            f = m.path(path)
            d = os.path.dirname(f)
            assert os.path.basename(f) in os.listdir(d)
            open(f, "rb").read()
            sim.set_fleet(drop_backup(json.loads(body), "ddm", rec["id"]))
            wait_past_ttl()
            assert os.path.basename(f) not in os.listdir(d)  # readdir cache was reset
            for fn in (os.stat, lambda p: open(p, "rb")):
                try:
                    fn(f)
                except FileNotFoundError:
                    pass
                else:
                    raise AssertionError(f"{f} still there after it vanished")
            sim.post("/_sim/fleet", body)
            wait_past_ttl()
            assert os.path.basename(f) in os.listdir(d)
            assert os.stat(f).st_size > 0 and b'"id"' in open(f, "rb").read()
    finally:
        sim.post("/_sim/fleet", body)


def test_instance_vanishes_and_appears(sim):
    body = raw_fleet(sim)
    doc = fleet_exact(sim)
    proj = next(p for p in doc["projects"] if p["record"].get("name") not in ("MOS", ""))
    inst = proj["ddm"]["instances"][0]
    tree = expected_tree(doc)
    inst_path = next(p for p, n in tree.items() if n.kind == "dir" and p.count("/") == 2
                     and p.split("/")[1] == "ddm" and any(
                         c.kind == "file" and c.record.get("instance_id") == inst["id"]
                         for q, c in tree.items() if q.startswith(p + "/")))
    try:
        with Mount(BINARY, sim, options={"ttl": "1"}) as m:
            svc_dir = m.path(os.path.dirname(inst_path))
            name = os.path.basename(inst_path)
            assert name in os.listdir(svc_dir)
            files = os.listdir(m.path(inst_path))
            assert files
            gone = json.loads(body)
            for p in gone["projects"]:
                if p["record"]["id"] == proj["record"]["id"]:
                    p["ddm"]["instances"] = [i for i in p["ddm"]["instances"] if i["id"] != inst["id"]]
                    p["ddm"]["backups"] = [b for b in p["ddm"]["backups"] if b.get("instance_id") != inst["id"]]
            sim.set_fleet(gone)
            wait_past_ttl()
            assert name not in os.listdir(svc_dir)
            assert not os.path.exists(m.path(inst_path))
            sim.post("/_sim/fleet", body)
            wait_past_ttl()
            assert name in os.listdir(svc_dir)
            assert sorted(os.listdir(m.path(inst_path))) == sorted(files)
    finally:
        sim.post("/_sim/fleet", body)


def test_every_write_fails_with_erofs(sim):
    with Mount(BINARY, sim) as m:
        f = next(os.path.join(d, x) for d, _, fs in os.walk(m.dir) for x in fs)
        assert open(f, "rb").read()  # OPEN has been answered ENOSYS: later opens skip the daemon
        for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC, os.O_RDWR | os.O_APPEND,
                      os.O_RDONLY | os.O_TRUNC, os.O_WRONLY | os.O_CREAT):
            try:
                fd = os.open(f, flags)
            except OSError as e:
                assert e.errno == errno.EROFS, (flags, e)
            else:
                os.close(fd)
                raise AssertionError(f"open({flags:#o}) succeeded on a read-only mount")
        try:
            os.open(os.path.join(os.path.dirname(f), "new.json"), os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError as e:
            assert e.errno == errno.EROFS, e
        else:
            raise AssertionError("create succeeded")
        for fn in (lambda: os.truncate(f, 0), lambda: os.unlink(f), lambda: os.chmod(f, 0o600),
                   lambda: os.setxattr(f, "user.x", b"1"), lambda: os.rename(f, f + ".x")):
            try:
                fn()
            except OSError as e:
                assert e.errno == errno.EROFS, e
            else:
                raise AssertionError("a write succeeded")
        # the opstats attribute is read-only too
        try:
            os.setxattr(m.dir, "user.dbbackupfs.opstats", b"0")
        except OSError as e:
            assert e.errno == errno.EROFS, e
        else:
            raise AssertionError("setxattr on the root succeeded")


class DaemonMount(Mount):
    """dbbackupfs without -f: it forks and detaches, as from /etc/fstab."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.argv = [x for x in self.argv if x != "-f"]
        self.asan_dir = tempfile.mkdtemp(prefix="dbbfs-asan-")
        if "ASAN_OPTIONS" in self.env:  # the daemon's stderr is /dev/null: log to files
            self.env["ASAN_OPTIONS"] += ":log_path=" + os.path.join(self.asan_dir, "asan")
        if "UBSAN_OPTIONS" in self.env:
            self.env["UBSAN_OPTIONS"] += ":log_path=" + os.path.join(self.asan_dir, "ubsan")

    def start(self, wait=True):
        super().start(wait=False)
        rc = self.proc.wait(timeout=30)  # the parent exits once the child serves
        if rc != 0:
            raise MountError(f"dbbackupfs exited {rc}: {self.output()}")
        deadline = time.monotonic() + 20
        while not os.path.ismount(self.dir):
            if time.monotonic() > deadline:
                raise MountError("daemon not mounted after 20 s: " + self.output())
            time.sleep(0.05)
        return self

    def daemon_pids(self):
        pids = []
        for c in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                argv = open(c, "rb").read().split(b"\0")
            except OSError:
                continue
            if self.dir.encode() in argv and os.path.basename(self.binary).encode() in argv[0]:
                pids.append(int(c.split("/")[2]))
        return pids

    def stop(self):
        pids = self.daemon_pids()
        subprocess.run(["fusermount3", "-u", self.dir], check=False)
        deadline = time.monotonic() + 15
        while self.daemon_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.daemon_pids()
        if in_mount_table(self.dir):
            subprocess.run(["fusermount3", "-u", "-z", self.dir], check=False)
        self.log.close()
        try:
            os.rmdir(self.dir)
        except OSError:
            pass
        return pids, left


def test_daemon_mode_mount_walk_unmount(sim):
    fleet = fleet_exact(sim)
    m = DaemonMount(BINARY, sim, options={"max_conns": "4"})
    m.start()
    try:
        pids = m.daemon_pids()
        assert len(pids) == 1, pids
        sim.reset_counts()
        # the first walk uses the read-ahead pool and the notifier: threads made after the fork
        out = sh(f"timeout 60 find {m.dir} -type f -print0 | timeout 60 xargs -0 cat | wc -c")
        assert out.returncode == 0, out
        want = sum(len(n.content) for n in expected_tree(fleet).values() if n.kind == "file")
        assert int(out.stdout) == want, (out.stdout, want)
        assert opstats(m)["init"] == 1
    finally:
        pids, left = m.stop()
    assert not left, f"daemon {left} still running 15 s after the unmount"
    reports = glob.glob(os.path.join(m.asan_dir, "*"))
    assert not reports, open(reports[0]).read()[:3000]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_memory_flat_over_generations():
    """Its own fleet: 16 or more GeminiDB instances in a project-wide listing of 3,000+
    backups, each of 16 ttl generations listing a different instance directory."""
    args = ["--seed", "5", "--projects", "1", "--instances", "16", "--backups", "250"]
    with CloudSim(args) as sim:
        env = {}
        if "ASAN_OPTIONS" in os.environ:  # ASan's quarantine would be all we measure
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":quarantine_size_mb=0"
        with Mount(BINARY, sim, options={"ttl": "1", "services": "geminidb"}, env=env) as m:
            svc = max((m.path(p, "geminidb") for p in os.listdir(m.dir)), key=lambda d: len(os.listdir(d)))
            insts = sorted(os.listdir(svc))
            assert len(insts) >= 16, len(insts)
            rss = []
            for gen in range(16):
                time.sleep(1.1)  # past the ttl: this listdir brings a new generation
                before = sim.counts()["routes"].get("geminidb.backups", 0)
                os.listdir(os.path.join(svc, insts[gen]))
                assert sim.counts()["routes"].get("geminidb.backups", 0) > before  # a new generation
                rss.append(rss_kib(m.proc.pid))
            base, last = max(rss[3:6]), rss[-1]
            print(f"  RSS over generations (KiB): {rss}")
            # A design that pins one generation per directory grows by a listing (~5 MB)
            # per generation here, 50 MB over these ten; the current generation alone, plus
            # the nodes of the files the kernel has seen, stays within a few MB.
            assert last - base < 12 * 1024, rss


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, SIM_ARGS))
