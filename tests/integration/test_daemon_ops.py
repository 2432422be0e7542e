#!/usr/bin/env python3
"""Integration tests of running dbbackupfs as a service: metrics, SIGHUP refresh, signals
that work whatever the daemon inherited, and logs that arrive (issue 8, items 2-5).

Every test mounts for real through /dev/fuse against cloudsim and checks what the daemon
says against the simulator's own counters.  Exit 77 (skipped) only when FUSE is absent.
Closing line: "N passed, N failed".  Environment: DBBACKUPFS, CLOUDSIM; DBB_ONLY=a,b.
"""

import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import promcheck  # noqa: E402
from expected import expected_tree, fleet_exact  # noqa: E402
from mount import Mount  # noqa: E402
from runner import run_tests  # noqa: E402

BINARY = os.path.abspath(os.environ.get("DBBACKUPFS", "dbbackupfs"))
SIM_ARGS = ["--seed", "11", "--projects", "2", "--instances", "3", "--backups", "4"]


def wait_for(pred, timeout=15, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_all(root):
    """Walk and read every file; returns (files read, bytes read)."""
    files = size = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                size += len(f.read())
            files += 1
    return files, size


def sim_route(service, route):
    """cloudsim's name of the route behind one of our (service, route template) labels."""
    if service == "iam":
        return "iam.tokens" if route.endswith("/tokens") else "iam.projects"
    if service == "taurusdb" and route == "/v3/{project_id}/backups":
        return "taurusdb.project_backups"  # beside its per-instance backups
    return service + "." + route.rstrip("/").rsplit("/", 1)[1]


def check_metrics_file(path):
    text = open(path).read()
    samples = promcheck.parse(text, prefix="dbbackupfs_")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert r.returncode == 0, "promtool check metrics: " + r.stdout + r.stderr
    else:
        print("  (promtool not installed: checked with promcheck.py only)")
    return samples


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "State:\tZ" not in f.read()
    except FileNotFoundError:
        return False


def sig_ignored(pid, signo):
    with open(f"/proc/{pid}/status") as f:
        mask = int(re.search(r"^SigIgn:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
    return bool(mask & (1 << (signo - 1)))


def daemon_argv(m, extra=None):
    """The mount's command line without -f (daemon mode), with extra -o options."""
    argv = [a for a in m.argv if a != "-f"]
    if extra:
        argv[-1] += "," + ",".join(f"{k}={v}" for k, v in extra.items())
    return argv


# ----- metrics -----

def test_metrics_file_matches_cloudsim_counts(sim):
    """A walk with throttling: every request, 429 and retry the simulator saw is in the file,
    by service and route; the file is rewritten every interval and at exit, atomically."""
    tmp = tempfile.mkdtemp(prefix="dbbfs-metrics-")
    path = os.path.join(tmp, "dbbackupfs.prom")
    sim.set_faults(throttle_rate=0.2, retry_after=0)
    m = Mount(BINARY, sim, options={"metrics": path, "metrics_interval": "0.5"})
    try:
        with m:
            wait_for(lambda: os.path.exists(path), what="the first metrics file")
            files, size = read_all(m.dir)
            assert files > 0
            first = os.stat(path).st_mtime_ns
            wait_for(lambda: os.stat(path).st_mtime_ns != first, what="a rewrite")
            # the mount's own reading of its opcode counters, as of now
            opstats = dict(line.split() for line in
                           os.getxattr(m.dir, "user.dbbackupfs.opstats").decode().splitlines())
        counts = sim.counts()
        assert counts["faults"]["throttle"] > 0, counts  # the test exercised throttling
        samples = check_metrics_file(path)  # the one written at exit
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        assert os.listdir(tmp) == ["dbbackupfs.prom"], os.listdir(tmp)

        ours = {}
        for labels, v in promcheck.select(samples, "dbbackupfs_api_requests_total").items():
            d = dict(labels)
            r = sim_route(d["service"], d["route"])
            ours[r] = ours.get(r, 0) + v
        theirs = {k: v for k, v in counts["routes"].items() if v}
        assert ours == theirs, (ours, theirs)
        assert promcheck.total(samples, "dbbackupfs_api_requests_total") == counts["total"]
        throttled = counts["faults"]["throttle"]
        assert promcheck.total(samples, "dbbackupfs_api_requests_total", code="4xx") == throttled
        assert promcheck.total(samples, "dbbackupfs_api_throttled_total") == throttled
        # every throttled attempt was retried, and nothing else failed
        assert promcheck.total(samples, "dbbackupfs_api_retries_total") == throttled
        assert promcheck.total(samples, "dbbackupfs_api_request_duration_seconds_count") == counts["total"]

        one = lambda name: samples[("dbbackupfs_" + name, ())]  # noqa: E731
        assert one("listings_failed_total") == 0
        assert one("listings_stale_total") == 0
        # within the ttl each listing is fetched once, and all are still held
        assert one("listings_fetched_total") == one("listings_held") > 0
        assert one("listings_cached_total") > 0
        assert one("records_held") >= files
        assert one("records_held_bytes") >= size
        assert one("inodes") > files
        assert one("resident_memory_bytes") > 1 << 20
        by_op = {dict(k)["opcode"]: v
                 for k, v in promcheck.select(samples, "dbbackupfs_fuse_requests_total").items()}
        assert set(by_op) == set(opstats), (by_op, opstats)
        for op, n in opstats.items():  # the file at exit counts at least as much
            assert by_op[op] >= int(n), (op, by_op, opstats)
        assert by_op["getxattr"] >= 1 and by_op["init"] == 1, by_op
        assert by_op["opendir"] == by_op["releasedir"] > 0, by_op
        assert by_op["readdirplus"] > 0, by_op
        assert by_op["erofs"] == 0, by_op
    finally:
        sim.set_faults(throttle_rate=0)
        shutil.rmtree(tmp, ignore_errors=True)


def test_sigusr1_logs_metrics(sim):
    with Mount(BINARY, sim) as m:
        os.listdir(m.dir)
        m.proc.send_signal(signal.SIGUSR1)
        # the last sample written: the others are in by then
        wait_for(lambda: "metrics: dbbackupfs_resident_memory_bytes " in m.output(), 10,
                 "the metrics in the log")
        out = m.output()
        assert re.search(r"metrics: dbbackupfs_api_requests_total\{service=\"iam\","
                         r"route=\"/v3/auth/projects\",code=\"2xx\"\} 1$", out, re.M), out[-2000:]
        assert "metrics: dbbackupfs_listings_fetched_total " in out
        assert m.alive()


def test_bad_metrics_path_refused(sim):
    m = Mount(BINARY, sim, options={"metrics": "/nonexistent-dir/m.prom"})
    r = subprocess.run(m.argv, env=m.env, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "metrics=" in r.stderr and "/nonexistent-dir" in r.stderr, r.stderr
    assert not os.path.ismount(m.dir)
    os.rmdir(m.dir)


# ----- SIGHUP -----

def test_sighup_refreshes_before_ttl(sim):
    """ttl=300: only SIGHUP can make the change visible; 1 s after it, cat shows it."""
    doc = fleet_exact(sim)
    tmp = tempfile.mkdtemp(prefix="dbbfs-metrics-")
    metrics = os.path.join(tmp, "m.prom")
    with Mount(BINARY, sim, options={"ttl": "300", "metrics": metrics}) as m:
        proj = next(p for p in doc["projects"] if p["record"].get("name") not in ("MOS", ""))
        rec = next(b for b in proj["ddm"]["backups"] if b.get("status") == "normal")
        path = next(p for p, n in expected_tree(doc).items() if n.kind == "file" and n.record is rec)
        before = open(m.path(path), "rb").read()
        os.stat(m.path(path))
        assert b'"status": "normal"' in before
        status, _, body = sim.request("GET", "/_sim/fleet")
        at = body.index(('"id":"%s"' % rec["id"]).encode())
        st = body.index(b'"status":"normal"', at)
        changed = body[:st] + b'"status":"CHANGED-BY-SIGHUP"' + body[st + len(b'"status":"normal"'):]
        sim.post("/_sim/fleet", changed)
        try:
            sim.reset_counts()
            assert open(m.path(path), "rb").read() == before  # within ttl: as cached
            assert sim.counts()["total"] == 0
            m.proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            after = open(m.path(path), "rb").read()
            assert b'"status": "CHANGED-BY-SIGHUP"' in after, after
            assert os.stat(m.path(path)).st_size == len(after)
            assert sim.counts()["routes"]["ddm.backups"] >= 1
            assert "SIGHUP" in m.output()
            # a record that vanished is gone from the kernel's entries too
            gone = os.path.basename(path)
            assert gone in os.listdir(os.path.dirname(m.path(path)))
            truth = sim.fleet()
            p = next(p for p in truth["projects"] if p["record"]["id"] == proj["record"]["id"])
            p["ddm"]["backups"] = [b for b in p["ddm"]["backups"] if b["id"] != rec["id"]]
            sim.set_fleet(truth)
            m.proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            assert not os.path.exists(m.path(path))
            assert gone not in os.listdir(os.path.dirname(m.path(path)))
        finally:
            sim.post("/_sim/fleet", body)
    samples = check_metrics_file(metrics)
    shutil.rmtree(tmp, ignore_errors=True)
    assert samples[("dbbackupfs_refreshes_total", ())] == 2
    # the kernel was told: the file read (and its directories) at least
    assert samples[("dbbackupfs_kernel_invalidations_total", (("kind", "inode"),))] >= 1


# ----- signals -----

def background_shell(argv, env):
    """argv as a background job of a non-interactive shell, which starts it with SIGINT
    ignored, next to a `sleep` started the same way; returns (shell, pid, sleep pid)."""
    script = ("sleep 60 & echo sleep=$!; " + shlex.join(argv) + " & echo pid=$!; "
              "wait $!; echo rc=$?")
    sh = subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    sleep_pid = int(sh.stdout.readline().strip().split("=")[1])
    pid = int(sh.stdout.readline().strip().split("=")[1])
    return sh, pid, sleep_pid


def assert_started_with_sigint_ignored(sleep_pid):
    """What the daemon inherited, seen on its sibling (the daemon resets it at once)."""
    try:
        wait_for(lambda: open(f"/proc/{sleep_pid}/comm").read().strip() == "sleep", 5, "exec")
        assert sig_ignored(sleep_pid, signal.SIGINT), "the shell did not ignore SIGINT"
    finally:
        os.kill(sleep_pid, signal.SIGKILL)


def test_sigint_and_sigterm_from_background_shell(sim):
    for signo in (signal.SIGINT, signal.SIGTERM):
        m = Mount(BINARY, sim)
        sh, pid, sleep_pid = background_shell(m.argv, m.env)
        busy = None
        try:
            assert_started_with_sigint_ignored(sleep_pid)
            wait_for(lambda: os.path.ismount(m.dir), 20, "the mount")
            os.listdir(m.dir)
            # a shell sitting inside the mount, as in the demo
            busy = subprocess.Popen(["sleep", "60"], cwd=m.dir)
            t0 = time.monotonic()
            os.kill(pid, signo)
            out = sh.communicate(timeout=20)[0]
            assert "rc=0" in out, out[-2000:]
            assert time.monotonic() - t0 < 10
            assert not os.path.ismount(m.dir)
            assert ("SIGINT" if signo == signal.SIGINT else "SIGTERM") + ": unmounting" in out
        finally:
            if busy:
                busy.kill()
                busy.wait()
            if sh.poll() is None:
                os.kill(pid, signal.SIGKILL)
                sh.wait()
            if os.path.ismount(m.dir):
                subprocess.run(["fusermount3", "-u", "-z", m.dir], check=False)
        wait_for(lambda: not os.path.ismount(m.dir), 5, "the unmount")
        os.rmdir(m.dir)


def test_sigint_while_starting(sim):
    """Before anything is mounted (the credential check waits on a slow API) SIGINT ends
    the daemon at once, as it would without any handler."""
    sim.set_faults(latency_ms=5000)
    m = Mount(BINARY, sim).start(wait=False)
    try:
        wait_for(lambda: sim.counts()["total"] > 0 or not m.alive(), 10, "the credential check")
        t0 = time.monotonic()
        m.proc.send_signal(signal.SIGINT)
        assert m.proc.wait(timeout=3) == -signal.SIGINT
        assert time.monotonic() - t0 < 2
        assert not os.path.ismount(m.dir)
    finally:
        sim.set_faults(latency_ms=0)
        if m.alive():
            m.proc.kill()
        m.stop()


# ----- logs -----

def test_daemon_log_file_and_sigint(sim):
    """Daemonised from a background shell with log=PATH: the lines arrive in PATH (with the
    daemon's pid), and SIGINT stops it."""
    tmp = tempfile.mkdtemp(prefix="dbbfs-log-")
    log = os.path.join(tmp, "dbbackupfs.log")
    m = Mount(BINARY, sim)
    sh, _, sleep_pid = background_shell(daemon_argv(m, {"log": log}), m.env)
    pid = None
    try:
        assert_started_with_sigint_ignored(sleep_pid)
        assert "rc=0" in sh.communicate(timeout=30)[0]  # the launcher returns once mounted
        assert os.path.ismount(m.dir)
        line = wait_for(lambda: re.search(r"^\S+ \S+ dbbackupfs\[(\d+)\] info: mounted on (.*) "
                                          r"\(pid \d+\)$", open(log).read(), re.M), 10, "the log line")
        pid = int(line.group(1))
        assert line.group(2) == os.path.realpath(m.dir)
        os.listdir(m.dir)
        # logrotate moves the file away; SIGHUP reopens PATH
        os.rename(log, log + ".1")
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: os.path.exists(log) and "SIGHUP" in open(log).read(), 10,
                 "the reopened log")
        os.kill(pid, signal.SIGINT)
        wait_for(lambda: not pid_alive(pid), 15, "the daemon to exit")
        assert not os.path.ismount(m.dir)
        assert "info: SIGINT: unmounting" in open(log).read()
        assert "SIGINT" not in open(log + ".1").read()
    finally:
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        if os.path.ismount(m.dir):
            subprocess.run(["fusermount3", "-u", "-z", m.dir], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    os.rmdir(m.dir)


def test_log_stderr_survives_daemonising(sim):
    """log=stderr keeps writing to the stderr the daemon was started with (a service
    manager's pipe), although daemonising points descriptor 2 at /dev/null."""
    tmp = tempfile.mkdtemp(prefix="dbbfs-log-")
    err = os.path.join(tmp, "stderr")
    m = Mount(BINARY, sim)
    pid = None
    try:
        with open(err, "wb") as f:
            r = subprocess.run(daemon_argv(m, {"log": "stderr"}), env=m.env, stderr=f, timeout=30)
        assert r.returncode == 0
        line = wait_for(lambda: re.search(r"info: mounted on .* \(pid (\d+)\)", open(err).read()),
                        10, "the line on stderr")
        pid = int(line.group(1))
        os.kill(pid, signal.SIGUSR1)
        wait_for(lambda: "metrics: dbbackupfs_inodes " in open(err).read(), 10, "the metrics")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), 15, "the daemon to exit")
        assert not os.path.ismount(m.dir)
    finally:
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        if os.path.ismount(m.dir):
            subprocess.run(["fusermount3", "-u", "-z", m.dir], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    os.rmdir(m.dir)


def test_syslog_without_dev_log_warns(sim):
    if os.path.exists("/dev/log"):
        print("  (/dev/log exists here: the warning cannot show; only log=PATH refusal checked)")
    else:
        m = Mount(BINARY, sim)
        r = subprocess.run(daemon_argv(m), env=m.env, capture_output=True, text=True, timeout=30)
        try:
            assert r.returncode == 0, r.stderr
            assert "no /dev/log" in r.stderr and "log=PATH" in r.stderr, r.stderr
            assert os.path.ismount(m.dir)
        finally:
            subprocess.run(["fusermount3", "-u", m.dir], check=False)
            wait_for(lambda: not os.path.ismount(m.dir), 5, "the unmount")
            os.rmdir(m.dir)
    m = Mount(BINARY, sim, options={"log": "/nonexistent-dir/x.log"})
    r = subprocess.run(daemon_argv(m), env=m.env, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "/nonexistent-dir/x.log" in r.stderr, r.stderr
    assert not os.path.ismount(m.dir)
    os.rmdir(m.dir)


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, SIM_ARGS))
