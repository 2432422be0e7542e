#!/usr/bin/env python3
"""Integration tests: dbbackupfs mounted for real against a cloudsim that misbehaves on
purpose (POST /_sim/misbehave): lying totals, holes, capped pages, oversized, gzip-bomb and
slow-drip bodies, deep or invalid JSON, invalid UTF-8, redirects, records that change between
listings, DDM's page-number offsets.

Each scenario lists one directory through the mount and asserts what it shows (every record,
or EIO) and how many requests the listing cost, from cloudsim's counters; the contract is
requests <= pages needed + 2 (+1 for DDM's offset probe) whatever the totals say.  A table of
the measured counts closes the run.  Exit 77 (skipped) only when FUSE is absent.

Environment: DBBACKUPFS, CLOUDSIM.  Optional: DBB_ONLY=a,b to run some scenarios only.
"""

import errno
import math
import os
import signal
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cloudsim import CloudSim  # noqa: E402
from mount import Mount, fuse_available  # noqa: E402

BINARY = os.environ.get("DBBACKUPFS", "dbbackupfs")
LIMIT = {"taurusdb": 100, "ddm": 128}
ROUTE = {"taurusdb": "taurusdb.backups", "ddm": "ddm.backups"}
MEASURED = []  # (scenario, requests, bound, outcome)


def sim_args(n, ddm_page=False):
    args = ["--no-extras", "--projects", "1", "--instances", "1", "--backups", str(n)]
    return args + (["--ddm-offset", "page"] if ddm_page else [])


def instance_dir(m, service):
    """The one instance directory of the one project (listing the levels above it)."""
    projects = os.listdir(m.dir)
    assert len(projects) == 1, projects
    base = m.path(projects[0], service)
    instances = os.listdir(base)
    assert len(instances) == 1, instances
    return os.path.join(base, instances[0])


def list_once(sim, m, service):
    """Lists the backups once: (names or None, errno or 0, requests, seconds).  The service
    directory is listed too: a project-wide backup list (DDM) is fetched for it.  Counting
    starts before the project list is read: read-ahead may fetch the levels below it as
    soon as that listing is read to its end."""
    sim.reset_counts()
    t0 = time.monotonic()
    projects = os.listdir(m.dir)
    assert len(projects) == 1, projects
    base = m.path(projects[0], service)
    try:
        instances = os.listdir(base)
        assert len(instances) == 1, instances
        names, err = os.listdir(os.fsencode(os.path.join(base, instances[0]))), 0
    except OSError as e:
        names, err = None, e.errno
    return names, err, sim.count(ROUTE[service]), time.monotonic() - t0


def scenario(name, n, misbehave, expect, bound, exact=None, service="taurusdb", options=None,
             ddm_page=False, max_seconds=None, min_seconds=None):
    """One fresh simulator and mount; `expect` is the number of files or an errno."""
    with CloudSim(sim_args(n, ddm_page)) as sim:
        sim.post("/_sim/misbehave", dict(misbehave, route=ROUTE[service]))
        opts = {"services": service}
        opts.update(options or {})
        with Mount(BINARY, sim, options=opts) as m:
            names, err, requests, seconds = list_once(sim, m, service)
            outcome = f"EIO in {seconds:.1f} s" if err == errno.EIO else (
                f"{len(names)} files" if names is not None else os.strerror(err))
            MEASURED.append((name, requests, bound, outcome))
            if isinstance(expect, int) and expect >= 0 and not (err and expect == errno.EIO):
                assert err == 0, f"{name}: {os.strerror(err)}: {m.output()[-2000:]}"
                assert len(names) == expect, f"{name}: {len(names)} files, expected {expect}"
            else:
                assert err == expect, f"{name}: errno {err}, expected {expect}"
            assert requests <= bound, f"{name}: {requests} requests > {bound}"
            if exact is not None:
                assert requests == exact, f"{name}: {requests} requests, expected {exact}"
            if max_seconds is not None:
                assert seconds < max_seconds, f"{name}: {seconds:.1f} s"
            if min_seconds is not None:
                assert seconds >= min_seconds, f"{name}: {seconds:.1f} s"
            return sim, m, names


def pages(n, limit=100):
    return max(1, math.ceil(n / limit))


FILES = "files"  # marker: expect every record as a file


def run_files(name, n, misbehave, extra=2, exact=None, limit=None, **kw):
    limit = limit or LIMIT[kw.get("service", "taurusdb")]
    return scenario(name, n, misbehave, n, pages(n, limit) + extra, exact, **kw)


def run_eio(name, n, misbehave, bound, exact=None, **kw):
    return scenario(name, n, misbehave, errno.EIO, bound, exact, **kw)


# ----- lying totals -----

def test_honest_baseline():
    run_files("honest total, 500 records", 500, {}, exact=5)


def test_total_million_for_three():
    run_files("3 records, total \"1000000\"", 3, {"total": "1000000"}, exact=2)


def test_total_five_high():
    run_files("500 records, total 5 too high", 500, {"total_delta": 5})


def test_total_low():
    run_files("500 records, total 250", 500, {"total_delta": -250})


def test_total_missing_negative_text_float():
    for label, mb in (("missing", {"total_missing": True}), ("negative", {"total": -5}),
                      ("\"abc\"", {"total": "abc"}), ("1.5", {"total": 1.5})):
        run_files(f"250 records, total {label}", 250, mb, exact=3)


def test_all_strings_total_five_high():
    run_files("500 records, envelope all strings, total 5 too high", 500,
              {"strings": True, "total_delta": 5})
    run_files("500 records, envelope all strings", 500, {"strings": True}, exact=5)


# ----- holes and capped pages -----

def test_hole_fails_the_listing():
    run_eio("hole: page at offset 200 empty", 500, {"hole": {"offset": 200, "records": 0}}, 7)
    run_eio("hole: page at offset 200 short", 500, {"hole": {"offset": 200, "records": 50}}, 7)


def test_hole_once_is_refetched():
    run_files("hole once at offset 200", 500, {"hole": {"offset": 200, "records": 0, "times": 1}},
              exact=6)


def test_hole_then_recovered_not_cached():
    sim, m, _ = None, None, None
    with CloudSim(sim_args(500)) as sim:
        sim.post("/_sim/misbehave", {"route": "taurusdb.backups",
                                     "hole": {"offset": 200, "records": 0}})
        with Mount(BINARY, sim, options={"services": "taurusdb"}) as m:
            names, err, _, _ = list_once(sim, m, "taurusdb")
            assert err == errno.EIO, err
            sim.post("/_sim/misbehave", {})
            names, err, requests, _ = list_once(sim, m, "taurusdb")
            assert err == 0 and len(names) == 500, (err, names and len(names))
            assert requests == 5, requests  # the failure was not cached, nor served stale


def test_capped_pages():
    # The bound counts the pages the server really serves.
    run_files("pages capped at 50 of 100", 500, {"page_cap": 50}, limit=50, exact=10)
    run_files("pages capped at 30 of 100", 500, {"page_cap": 30}, limit=30, extra=0)


# ----- bodies -----

def test_oversized_body():
    run_eio("200 MB body", 3, {"oversize": 200 << 20}, 1, exact=1, max_seconds=10)


def test_gzip_bomb():
    run_eio("gzip bomb (200 MB inflated)", 3, {"gzip_bomb": 200 << 20}, 1, exact=1,
            max_seconds=10)


def test_slow_drip_fails_at_timeout():
    run_eio("slow drip, timeout=2", 3, {"drip_ms": 300}, 1, exact=1,
            options={"timeout": "2"}, min_seconds=1.8, max_seconds=6)


def test_deep_json():
    run_eio("10,000-deep nesting", 3, {"deep": 10000}, 2, exact=2, max_seconds=5)


def test_invalid_json():
    run_eio("invalid JSON on a 200", 3, {"invalid_json": True}, 2, exact=2, max_seconds=5)


def test_invalid_utf8_names():
    _, _, names = run_files("invalid UTF-8 in every name", 5, {"invalid_utf8": True}, exact=1)
    assert all(n.startswith(b"\xff\xfe") for n in names), names


def test_rendering_capped():
    # 60 levels around 140,000 numbers: 280 KB of text per record, 17 MB pretty-printed.
    _, m, _ = run_eio("a record rendering beyond 16 MiB", 3,
                      {"wide": {"levels": 60, "elements": 140000}}, 1, exact=1, max_seconds=10)
    assert "its file would exceed 16777216 bytes; listing refused" in m.output()
    # 5,000 numbers: 610 KB per file, three of them over max_listing_bytes=1M.
    _, m, _ = run_eio("rendered files over max_listing_bytes=1M", 3,
                      {"wide": {"levels": 60, "elements": 5000}}, 1, exact=1,
                      options={"max_listing_bytes": "1M"})
    assert "would exceed 1048576 bytes (max_listing_bytes)" in m.output()
    with CloudSim(sim_args(3)) as sim:
        sim.post("/_sim/misbehave", {"route": "taurusdb.backups",
                                     "wide": {"levels": 60, "elements": 5000}})
        with Mount(BINARY, sim, options={"services": "taurusdb"}) as m:
            d = instance_dir(m, "taurusdb")
            sizes = [os.stat(os.path.join(d, n)).st_size for n in os.listdir(d)]
            assert len(sizes) == 3 and all(600000 < z < 700000 for z in sizes), sizes


def test_redirect_not_followed():
    with CloudSim(sim_args(3)) as sim:
        sim.post("/_sim/misbehave", {"route": "taurusdb.backups", "redirect": True})
        with Mount(BINARY, sim, options={"services": "taurusdb"}) as m:
            names, err, requests, _ = list_once(sim, m, "taurusdb")
            MEASURED.append(("302 redirect", requests, 1, "EIO" if err == errno.EIO else err))
            assert err == errno.EIO, err
            assert requests == 1, requests
            assert sim.count("unknown") == 0  # /elsewhere was never asked for


# ----- records that change between listings -----

def test_records_change_between_listings():
    with CloudSim(sim_args(3)) as sim:
        # The records change at the same size and times: the kernel must still be told.
        sim.post("/_sim/misbehave", {"route": "taurusdb.backups", "change": True})
        with Mount(BINARY, sim, options={"services": "taurusdb", "ttl": "1"}) as m:
            d = instance_dir(m, "taurusdb")
            name = sorted(os.listdir(d))[0]
            with open(os.path.join(d, name)) as f:
                first = f.read()
            assert '"sim_generation": 1' in first, first[:200]
            time.sleep(1.5)
            sim.reset_counts()
            with open(os.path.join(d, name)) as f:
                second = f.read()
            assert '"sim_generation": 2' in second, second[:200]
            assert os.stat(os.path.join(d, name)).st_size == len(second.encode())
            MEASURED.append(("records change between listings (refresh)",
                             sim.count("taurusdb.backups"), 1, "new content"))
            assert sim.count("taurusdb.backups") == 1


# ----- DDM's offset reading -----

def test_ddm_page_number_server_without_total():
    run_files("DDM page-number offsets, no total, 300", 300, {"total_missing": True},
              service="ddm", ddm_page=True, extra=3, exact=3)


def test_ddm_item_server():
    run_files("DDM item offsets, 300", 300, {}, service="ddm", extra=3, exact=4)


# ----- bounds -----

def test_max_records():
    run_eio("max_records=250, 500 records", 500, {}, 3, exact=3,
            options={"max_records": "250"})


def test_unmount_while_dripping():
    """SIGTERM with a listing stuck on a slow server: the daemon exits in well under
    `timeout` (30 s), the request aborted."""
    with CloudSim(sim_args(3)) as sim:
        sim.post("/_sim/misbehave", {"route": "taurusdb.backups", "drip_ms": 1000})
        m = Mount(BINARY, sim, options={"services": "taurusdb", "timeout": "30"}).start()
        try:
            base = m.path(os.listdir(m.dir)[0], "taurusdb")
            inst = os.path.join(base, os.listdir(base)[0])
            errs = []
            t = threading.Thread(target=lambda: errs.append(_listdir_errno(inst)), daemon=True)
            t.start()
            time.sleep(1.0)
            t0 = time.monotonic()
            m.proc.send_signal(signal.SIGTERM)
            rc = m.proc.wait(timeout=15)
            took = time.monotonic() - t0
            MEASURED.append(("SIGTERM during a slow-drip listing", sim.count("taurusdb.backups"),
                             1, f"exit {rc} in {took:.1f} s"))
            assert took < 5, took
            t.join(5)
        finally:
            m.stop()


def _listdir_errno(path):
    try:
        os.listdir(path)
        return 0
    except OSError as e:
        return e.errno


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_") and callable(v)]


def main():
    if not fuse_available():
        print("FUSE is not available (/dev/fuse): skipping")
        return 77
    only = set(filter(None, os.environ.get("DBB_ONLY", "").split(",")))
    passed = failed = 0
    for t in TESTS:
        if only and t.__name__ not in only and t.__name__[5:] not in only:
            continue
        t0 = time.monotonic()
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
            traceback.print_exc()
    print("\nrequests per hostile scenario (bound: pages needed + 2, +1 DDM probe):")
    for name, requests, bound, outcome in MEASURED:
        print(f"  {name:55s} {requests:3d} (<= {bound:3d})  {outcome}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
