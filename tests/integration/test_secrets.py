#!/usr/bin/env python3
"""Integration tests of secret hygiene (issue 7.4), through a real mount against cloudsim.

- A mistyped option holding a secret (-o sk=...) stops the mount by name, and neither
  dbbackupfs nor libfuse prints the value.
- Credentials over plain http:// to a host that is not loopback: refused before anything is
  sent (cloudsim's counters stay at 0) unless -o allow_insecure_http, which then mounts.
(That the daemon is not dumpable cannot be seen from outside when the tests run as root;
the unit test test_secrets holds that promise.)

Exit 77 only without FUSE.  Environment: DBBACKUPFS, CLOUDSIM.
"""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cloudsim import CloudSim  # noqa: E402
from mount import Mount, fuse_available  # noqa: E402

BINARY = os.environ.get("DBBACKUPFS", "dbbackupfs")
SECRET = "SKmistyped0000000000000000000000000000XYZ"


def test_unknown_option_not_echoed(sim):
    m = Mount(BINARY, sim, options={"sk": SECRET})
    m.start(wait=False)
    rc = m.wait_exit(30)
    out = m.output()
    m.stop()
    assert rc != 0, out
    assert "unknown option 'sk'" in out, out
    assert SECRET not in out, out
    assert sim.count("total") == 0, sim.counts()


def own_address():
    """An address that is not loopback by name, yet reaches this host: Linux delivers a
    connect() to 0.0.0.0 to the local host, so this test sends nothing off the machine."""
    return "0.0.0.0"


def test_plain_http_refused(_sim):
    addr = own_address()
    with CloudSim(["--projects", "1", "--instances", "1", "--backups", "1"]) as far:
        endpoint = "http://%s:%d/{service}" % (addr, far.port)
        for creds in ("aksk", "token"):
            env = {}
            if creds == "token":
                pid = far.fleet()["projects"][0]["record"]["id"]
                env["DBBACKUPFS_TOKEN"] = CloudSim.token(pid)
            m = Mount(BINARY, far, options={"endpoint": endpoint}, env=env,
                      credentials="aksk" if creds == "aksk" else None)
            m.start(wait=False)
            rc = m.wait_exit(30)
            out = m.output()
            m.stop()
            assert rc != 0, out
            assert "refusing to send credentials over plain http to " + addr in out, out
            assert far.count("total") == 0, far.counts()  # nothing was sent
        with Mount(BINARY, far, options={"endpoint": endpoint, "allow_insecure_http": None}) as m:
            projects = os.listdir(m.dir)
            want = [p for p in far.fleet()["projects"] if p["record"].get("name") != "MOS"]
            assert len(projects) == len(want), (projects, want)
            assert far.count("total") >= 1, far.counts()


TESTS = [test_unknown_option_not_echoed, test_plain_http_refused]


def main():
    if not fuse_available():
        print("FUSE is not available (/dev/fuse): skipping")
        return 77
    passed = failed = 0
    with CloudSim(["--projects", "1", "--instances", "1", "--backups", "1"]) as sim:
        for t in TESTS:
            try:
                sim.reset_counts()
                t(sim)
                passed += 1
                print("ok   " + t.__name__, flush=True)
            except Exception:
                failed += 1
                print("FAIL " + t.__name__, flush=True)
                traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
