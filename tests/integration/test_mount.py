#!/usr/bin/env python3
"""Integration tests: dbbackupfs mounted for real through /dev/fuse against cloudsim.

Each test drives the mount the way users do (find, cat, ls, grep, stat, compgen) and checks
the result against the simulator's ground truth, and the API calls against its counters.
Exit 77 (skipped) only when FUSE is absent.  Closing line: "N passed, N failed".

Environment: DBBACKUPFS (the binary), CLOUDSIM (the simulator).  Optional: DBB_ONLY=a,b to
run some tests only.
"""

import errno
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cloudsim import CloudSim  # noqa: E402
from expected import expected_tree, fleet_exact, minimal_calls  # noqa: E402
from mount import Mount  # noqa: E402
from runner import run_tests  # noqa: E402

BINARY = os.environ.get("DBBACKUPFS", "dbbackupfs")
SIM_ARGS = ["--seed", "7", "--projects", "2", "--instances", "3", "--backups", "4"]


def api_counts(sim):
    routes = sim.counts()["routes"]
    return {k: v for k, v in routes.items() if v}


def walk(root):
    """{relative path: os.stat_result} of everything under root (root itself as '')."""
    out = {"": os.lstat(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = os.lstat(full)
    return out


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)


def compare_tree(m, fleet, mount_start, **kw):
    """Every path, every byte, sizes, times, modes; returns the number of files."""
    expected = expected_tree(fleet, **kw)
    actual = walk(m.dir)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing and not extra, f"missing {missing[:10]} extra {extra[:10]}"
    files = 0
    for path, node in expected.items():
        st = actual[path]
        assert st.st_uid == os.getuid() and st.st_gid == os.getgid(), path
        if node.kind == "dir":
            assert oct(st.st_mode) == oct(0o40555), (path, oct(st.st_mode))
            if node.mtime is not None:
                assert st.st_mtime == node.mtime, (path, st.st_mtime, node.mtime)
            else:
                assert mount_start - 2 <= st.st_mtime <= time.time() + 1, (path, st.st_mtime)
            continue
        files += 1
        assert oct(st.st_mode) == oct(0o100444), (path, oct(st.st_mode))
        with open(m.path(path), "rb") as f:
            data = f.read()
        assert data == node.content, f"{path}: content differs:\n{data[:300]!r}\n{node.content[:300]!r}"
        assert st.st_size == len(node.content), (path, st.st_size)
        assert int(st.st_mtime) == node.mtime and int(st.st_ctime) == node.mtime, (path, st.st_mtime, node.mtime)
        assert int(st.st_atime) == node.atime, (path, st.st_atime, node.atime)
        # read-only facts for scripts, as extended attributes
        assert os.getxattr(m.path(path), "user.dbbackupfs.id").decode() == str(node.record["id"]), path
        if isinstance(node.record.get("status"), str):
            assert os.getxattr(m.path(path), "user.dbbackupfs.status").decode() == node.record["status"]
        # reads at an offset return the right bytes
        if len(data) > 10:
            with open(m.path(path), "rb") as f:
                f.seek(len(data) // 2)
                assert f.read(7) == data[len(data) // 2: len(data) // 2 + 7], path
    assert os.listxattr(m.dir) == []
    for path in expected:
        if path.count("/") == 2:  # instance directories hold only files
            assert actual[path].st_nlink == 2, (path, actual[path].st_nlink)
    return files


# ---------------------------------------------------------------------------- tests


def test_tree_matches_ground_truth(sim):
    fleet = fleet_exact(sim)
    start = time.time()
    with Mount(BINARY, sim) as m:
        n = compare_tree(m, fleet, start)
        assert n > 50, n
        # the seed records are there, byte for byte (part of the fleet)
        hits = sh(f"grep -rl '\"size\": \"74464.0\"' {m.dir}").stdout.split()
        assert len(hits) >= 1, hits
        out = sh(f"find {m.dir} -type f -name '*.json' -print0 | xargs -0 -n 200 jq -e . > /dev/null")
        assert out.returncode == 0, out.stderr


def test_writes_fail_with_erofs(sim):
    with Mount(BINARY, sim) as m:
        some_file = next(
            os.path.join(d, f) for d, _, fs in os.walk(m.dir) for f in fs
        )
        some_dir = os.path.dirname(some_file)
        attempts = {
            "create": lambda: open(os.path.join(some_dir, "new.json"), "w"),
            "write": lambda: open(some_file, "r+"),
            "append": lambda: open(some_file, "a"),
            "truncate": lambda: os.truncate(some_file, 0),
            "unlink": lambda: os.unlink(some_file),
            "rmdir": lambda: os.rmdir(some_dir),
            "mkdir": lambda: os.mkdir(os.path.join(some_dir, "d")),
            "rename": lambda: os.rename(some_file, some_file + ".x"),
            "chmod": lambda: os.chmod(some_file, 0o644),
            "utime": lambda: os.utime(some_file, (0, 0)),
            "symlink": lambda: os.symlink("x", os.path.join(some_dir, "l")),
            "link": lambda: os.link(some_file, os.path.join(some_dir, "h")),
            "setxattr": lambda: os.setxattr(some_file, "user.x", b"1"),
            "mknod": lambda: os.mknod(os.path.join(some_dir, "n")),
        }
        for what, fn in attempts.items():
            try:
                fn()
            except OSError as e:
                assert e.errno == errno.EROFS, (what, e)
            else:
                raise AssertionError(f"{what} succeeded on a read-only mount")
        assert sh(f"touch {some_dir}/t").returncode != 0


def test_cold_and_warm_find_cat_call_counts(sim):
    fleet = sim.fleet()
    with Mount(BINARY, sim) as m:
        sim.reset_counts()
        out = sh(f"find {m.dir} -type f -print0 | xargs -0 cat | wc -c")
        assert out.returncode == 0 and int(out.stdout) > 0, out
        assert api_counts(sim) == minimal_calls(fleet), (api_counts(sim), minimal_calls(fleet))
        sim.reset_counts()
        out2 = sh(f"find {m.dir} -type f -print0 | xargs -0 cat | wc -c")
        assert out2.stdout == out.stdout
        assert sim.counts()["total"] == 0, api_counts(sim)
        # warm ls -l and stat cost nothing either
        sh(f"ls -lR {m.dir} > /dev/null; find {m.dir} -type f -exec stat -c %s {{}} + > /dev/null")
        assert sim.counts()["total"] == 0, api_counts(sim)


def test_tab_completion(sim):
    with Mount(BINARY, sim) as m:
        sh(f"find {m.dir} > /dev/null")
        inst = next(d for d, _, fs in os.walk(m.dir) if len(fs) >= 2)
        names = sorted(os.listdir(inst))
        prefix = names[0][:3]
        sim.reset_counts()
        got = sh(f"bash -c 'compgen -f -- \"$1\"' _ '{inst}/{prefix}'").stdout.splitlines()
        want = sorted(os.path.join(inst, n) for n in names if n.startswith(prefix))
        assert sorted(got) == want, (got, want)
        none = sh(f"bash -c 'compgen -f -- \"$1\"' _ '{inst}/zz-no-such-prefix'").stdout
        assert none == "", none
        deep = sh(f"bash -c 'compgen -f -- \"$1\"' _ '{m.dir}/no-such-project/taurusdb/x'").stdout
        assert deep == "", deep
        assert sim.counts()["total"] == 0, api_counts(sim)


def test_grep_and_newermt(sim):
    fleet = fleet_exact(sim)
    expected = expected_tree(fleet)
    with Mount(BINARY, sim) as m:
        failed = {m.path(p) for p, n in expected.items() if n.kind == "file" and n.record.get("status") == "FAILED"}
        assert failed, "the fleet has FAILED backups"
        got = set(sh(f"grep -rl '\"status\": \"FAILED\"' {m.dir}").stdout.splitlines())
        assert got == failed, (sorted(got - failed)[:5], sorted(failed - got)[:5])
        cut = 1767225600  # 2026-01-01T00:00:00Z
        newer = {m.path(p) for p, n in expected.items() if n.kind == "file" and n.mtime > cut}
        assert newer and len(newer) < len([n for n in expected.values() if n.kind == "file"])
        got = set(sh(f"TZ=UTC find {m.dir} -type f -newermt 2026-01-01").stdout.splitlines())
        assert got == newer, (sorted(got - newer)[:5], sorted(newer - got)[:5])


def test_parallel_ls_fetches_each_listing_once(sim):
    fleet = sim.fleet()
    with Mount(BINARY, sim) as m:
        sim.reset_counts()
        results = []

        def ls():
            results.append(sh(f"ls -lR {m.dir} > /dev/null").returncode)

        threads = [threading.Thread(target=ls) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [0] * 16, results
        assert api_counts(sim) == minimal_calls(fleet), (api_counts(sim), minimal_calls(fleet))
        seen = {}
        for r in sim.requests():
            key = (r["path"], r["query"])
            seen[key] = seen.get(key, 0) + 1
        dups = [k for k, v in seen.items() if v > 1]
        assert not dups, dups[:5]


def test_faults_still_give_identical_tree(shared_sim):
    # A simulator of its own: the fault RNG starts from its seed, so which faults this test
    # meets does not depend on how many requests the tests before it made.
    with CloudSim(SIM_ARGS + ["--fault-seed", "1"]) as sim:
        fleet = fleet_exact(sim)
        start = time.time()
        sim.set_faults(error_rate=0.2, throttle_rate=0.1, truncate_rate=0.05, retry_after=0)
        with Mount(BINARY, sim, options={"timeout": "30"}) as m:
            compare_tree(m, fleet, start)
        faults = sim.counts()["faults"]
        assert faults["error"] > 0 and faults["throttle"] > 0 and faults["truncate"] > 0, faults


def test_outage_fails_in_time_and_serves_stale(sim):
    with Mount(BINARY, sim, options={"ttl": "1", "timeout": "3", "max_stale": "3600"}) as m:
        projects = sorted(os.listdir(m.dir))
        assert len(projects) >= 2, projects
        a = m.path(projects[0], "ddm")
        b = m.path(projects[1], "ddm")
        listed = sorted(os.listdir(a))
        sim.set_faults(outage=True)
        try:
            time.sleep(1.5)  # past ttl: the next access must refresh, and cannot
            assert sorted(os.listdir(a)) == listed  # served stale
            t0 = time.monotonic()
            try:
                os.listdir(b)
            except OSError as e:
                assert e.errno == errno.EIO, e
            else:
                raise AssertionError("listing during an outage succeeded")
            elapsed = time.monotonic() - t0
            # DESIGN: a chain of calls is bounded by its length times timeout; listing a
            # service directory is two (instances, backups), with 1 s of slack for a loaded host.
            assert elapsed <= 2 * 3 + 1, elapsed
            assert m.alive()
        finally:
            sim.set_faults(outage=False)
        time.sleep(1.2)
        assert len(os.listdir(b)) > 0
        assert m.alive()
        assert "stale" in m.output().lower(), m.output()[-2000:]


def test_wrong_credentials_fail_before_mounting(sim):
    bad = Mount(BINARY, sim, env={"HUAWEICLOUD_SDK_SK": "wrong-secret-0123456789"})
    bad.start(wait=False)
    rc = bad.wait_exit(30)
    out = bad.output()
    assert rc != 0, out
    assert not os.path.ismount(bad.dir)
    assert "wrong-secret-0123456789" not in out
    assert "reject" in out.lower() or "denied" in out.lower() or "401" in out, out
    bad.stop()
    none = Mount(BINARY, sim, credentials=None)
    none.start(wait=False)
    rc = none.wait_exit(30)
    assert rc != 0 and not os.path.ismount(none.dir), none.output()
    assert "credential" in none.output().lower(), none.output()
    none.stop()


def test_token_scoped_to_one_project(sim):
    fleet = sim.fleet()
    projects = [p for p in fleet["projects"] if p["record"].get("name") != "MOS"]
    token = projects[0]["token"]
    with Mount(BINARY, sim, credentials=None, env={"DBBACKUPFS_TOKEN": token}) as m:
        entries = sorted(os.listdir(m.dir))
        assert len(entries) == len(projects), entries
        ok, denied = 0, 0
        for p in entries:
            try:
                os.listdir(m.path(p, "taurusdb"))
                ok += 1
            except PermissionError:
                denied += 1
        assert ok == 1 and denied == len(projects) - 1, (ok, denied)


def test_debug_log_holds_no_secret(sim):
    creds = sim.fleet()["credentials"]
    with Mount(BINARY, sim, debug=True) as m:
        sh(f"find {m.dir} -type f | head -20 | xargs cat > /dev/null")
        m.stop()
        log = m.output()
    assert len(log) > 200, log
    assert creds["sk"] not in log
    for p in sim.fleet()["projects"]:
        assert p.get("token", "\x00never") not in log


def test_config_file_options_and_filters(sim):
    fleet = fleet_exact(sim)
    creds = fleet["credentials"]
    names = sorted(p["record"]["name"] for p in fleet["projects"] if p["record"].get("name") not in ("MOS", ""))
    cfgdir = tempfile.mkdtemp(prefix="dbbfs-cfg-")
    cfg = os.path.join(cfgdir, "config")
    with open(cfg, "w") as f:
        f.write(f"[dbbackupfs]\nendpoint={sim.endpoint}\nservices=taurusdb:ddm\nprojects={names[0]}\nttl=300\n"
                f"[auth]\nak={creds['ak']}\nsk={creds['sk']}\n")
    os.chmod(cfg, 0o644)
    loose = Mount(BINARY, sim, options={"config": cfg, "endpoint": sim.endpoint}, credentials=None)
    loose.start(wait=False)
    rc = loose.wait_exit(30)
    assert rc != 0 and not os.path.ismount(loose.dir), loose.output()
    assert "chmod 600" in loose.output() and creds["sk"] not in loose.output(), loose.output()
    loose.stop()
    os.chmod(cfg, 0o600)
    start = time.time()
    with Mount(BINARY, sim, credentials=None, options={"config": cfg}) as m:
        compare_tree(m, fleet, start, services=("ddm", "taurusdb"), projects={names[0]})
        assert sorted(os.listdir(m.dir)) == [names[0]]


def test_refresh_after_ttl_shows_changes(sim):
    doc = fleet_exact(sim)
    with Mount(BINARY, sim, options={"ttl": "1"}) as m:
        proj = next(p for p in doc["projects"] if p["record"].get("name") not in ("MOS", ""))
        rec = next(b for b in proj["ddm"]["backups"] if b.get("status") == "normal")
        expected = expected_tree(doc)
        path = next(p for p, n in expected.items() if n.kind == "file" and n.record is rec)
        before = open(m.path(path), "rb").read()
        assert b'"status": "normal"' in before
        status, _, body = sim.request("GET", "/_sim/fleet")
        # edit the ground truth as bytes, so every other number keeps its spelling
        at = body.index(('"id":"%s"' % rec["id"]).encode())
        st = body.index(b'"status":"normal"', at)
        changed = body[:st] + b'"status":"FAILED-AFTER-CHANGE"' + body[st + len(b'"status":"normal"'):]
        sim.post("/_sim/fleet", changed)
        try:
            sim.reset_counts()
            assert open(m.path(path), "rb").read() == before  # within ttl: as cached
            time.sleep(1.3)
            after = open(m.path(path), "rb").read()
            assert b'"status": "FAILED-AFTER-CHANGE"' in after, after
            assert os.stat(m.path(path)).st_size == len(after)
            assert sim.counts()["total"] > 0
        finally:
            sim.post("/_sim/fleet", body)


def test_walk_reads_ahead_without_extra_calls(sim):
    # RDS: a per-instance service without deleted instances (TaurusDB's come with its
    # instance listing and cost no request), so every sibling read ahead is one request.
    with Mount(BINARY, sim) as m:  # learn the names
        rel = max((os.path.join(p, "rds") for p in os.listdir(m.dir)),
                  key=lambda d: len(os.listdir(m.path(d))))
        instances = sorted(os.listdir(m.path(rel)))
    assert len(instances) >= 5, instances

    def wait_for(n, timeout=5):
        deadline = time.monotonic() + timeout
        while sim.count("rds.backups") < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        return sim.count("rds.backups")

    with Mount(BINARY, sim) as m:  # the service directory is never read here
        svc = m.path(rel)
        sim.reset_counts()
        os.listdir(os.path.join(svc, instances[0]))
        assert wait_for(2, 1) == 1, api_counts(sim)  # a lone ls reads nothing ahead
        os.listdir(os.path.join(svc, instances[2]))
        assert wait_for(3, 1) == 2, api_counts(sim)  # nor one of two that are not neighbours
        os.listdir(os.path.join(svc, instances[3]))  # its neighbour: a walk
        # the next max_conns (8) siblings are read ahead, no more
        ahead = min(len(instances), 4 + 8) - 1
        assert wait_for(ahead) == ahead, (api_counts(sim), ahead)
        for name in instances:
            os.listdir(os.path.join(svc, name))
        assert sim.count("rds.backups") == len(instances), api_counts(sim)
    with Mount(BINARY, sim) as m:  # a listed directory, then its first child: a walk
        sim.reset_counts()
        os.listdir(m.path(rel))
        os.listdir(os.path.join(m.path(rel), instances[0]))
        ahead = min(len(instances), 1 + 8)
        assert wait_for(ahead) == ahead, (api_counts(sim), ahead)


def test_project_named_like_no_region(sim):
    status, _, body = sim.request("GET", "/_sim/fleet")
    doc = fleet_exact(sim)
    first = next(p for p in doc["projects"] if p["record"].get("name") not in ("MOS", ""))
    old = ('"name":"%s"' % first["record"]["name"]).encode()
    assert body.count(old) >= 1
    sim.post("/_sim/fleet", body.replace(old, '"name":"My Project/Zürich"'.encode(), 1))
    try:
        fleet = fleet_exact(sim)
        start = time.time()
        with Mount(BINARY, sim) as m:
            assert "My Project_Zürich" in os.listdir(m.dir)
            compare_tree(m, fleet, start)
    finally:
        sim.post("/_sim/fleet", body)


def test_inodes_stable_across_remounts(sim):
    def inodes():
        with Mount(BINARY, sim) as m:
            return {p: st.st_ino for p, st in walk(m.dir).items() if p}

    first, second = inodes(), inodes()
    assert first == second
    assert len(set(first.values())) == len(first)  # one file, one inode


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, SIM_ARGS))
