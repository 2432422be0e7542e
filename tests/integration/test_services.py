#!/usr/bin/env python3
"""Integration tests of issue 9: the six services through a real mount, TaurusDB's deleted
instances, services= limiting the tree, and IAM password authentication across token
renewals, revocations and expiry.

Every file of every service is compared byte for byte with expected.py's independent model
of DESIGN.md; API calls are counted by cloudsim.  Exit 77 (skipped) only when FUSE is
absent.  Closing line: "N passed, N failed".

Environment: DBBACKUPFS (the binary), CLOUDSIM (the simulator).  Optional: DBB_ONLY=a,b.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from expected import SERVICES, fleet_exact, minimal_calls  # noqa: E402
from mount import Mount, MountError  # noqa: E402
from runner import run_tests  # noqa: E402
from test_mount import api_counts, compare_tree, sh  # noqa: E402

BINARY = os.environ.get("DBBACKUPFS", "dbbackupfs")
# Per instance 110 backups: RDS and TaurusDB listings of two pages; DDS and GaussDB
# project-wide listings of three.
SIM_ARGS = ["--seed", "11", "--projects", "1", "--instances", "2", "--backups", "110"]
# cloudsim's IAM user (tests/cloudsim/sim.h)
USER, PASSWORD, DOMAIN = "simuser", "sim-Passw0rd!", "simaccount"


def projects_of(fleet):
    return [p for p in fleet["projects"] if p["record"].get("name") != "MOS"]


def shown_name(p):
    return p["record"].get("name") or p["record"]["id"]


def tokens(sim):
    return sim.get("/_sim/tokens")


def password_env(password=PASSWORD):
    return {"DBBACKUPFS_PASSWORD": password, "DBBACKUPFS_USER": USER, "DBBACKUPFS_DOMAIN": DOMAIN}


def read_everything(m):
    """find + cat of the whole tree, as an audit script does: (exit status, stderr)."""
    out = sh(f"find {m.dir} -type f -print0 | xargs -0 -r cat > /dev/null")
    return out.returncode, out.stderr


# ---------------------------------------------------------------------------- tests


def test_six_services_tree_exact(sim):
    fleet = fleet_exact(sim)
    start = time.time()
    with Mount(BINARY, sim) as m:
        sim.reset_counts()
        n = compare_tree(m, fleet, start)
        assert n > 1500, n
        for p in os.listdir(m.dir):
            assert sorted(os.listdir(m.path(p))) == sorted(SERVICES), os.listdir(m.path(p))
        # one cold walk costs exactly the pages the listings need, the deleted TaurusDB
        # instances' list included (once per project, manual backups only)
        assert api_counts(sim) == minimal_calls(fleet), (api_counts(sim), minimal_calls(fleet))
        wide = [r for r in sim.requests() if r["route"] == "taurusdb.project_backups"]
        assert wide and all("backup_type=manual" in r["query"] for r in wide), wide
        rds = [r for r in sim.requests() if r["route"] == "rds.backups"]
        assert rds and all("instance_id=" in r["query"] for r in rds), rds[:3]
        # multi-page listings were really exercised
        for route in ("rds.backups", "dds.backups", "gaussdb.backups", "taurusdb.backups"):
            assert any("offset=100" in r["query"] for r in sim.requests() if r["route"] == route), route


def test_deleted_instances(sim):
    fleet = fleet_exact(sim)
    p = projects_of(fleet)[0]
    with Mount(BINARY, sim) as m:
        base = m.path(shown_name(p))
        # DDS and TaurusDB: two deleted instances that shared a name, and a renamed one
        for svc in ("dds", "taurusdb"):
            names = os.listdir(os.path.join(base, svc))
            assert len([n for n in names if n.startswith("deleted-twin@")]) == 2, (svc, names)
            assert "renamed-final" in names, (svc, names)
        # GaussDB's records carry no instance_name: deleted instances are named by ID
        listed = {i["id"] for i in p["gaussdb"]["instances"]}
        gone = {b["instance_id"] for b in p["gaussdb"]["backups"]} - listed
        names = set(os.listdir(os.path.join(base, "gaussdb")))
        assert gone and gone <= names, (gone, names)
        # TaurusDB: a deleted instance's file is the project-wide list's record; a live
        # instance's backup that list also holds is shown once, with its own record
        live = {i["id"] for i in p["taurusdb"]["instances"]}
        mirrored = [b for b in p["taurusdb"]["project_backups"] if b["instance_id"] in live]
        assert mirrored
        files = sh(f"grep -rl '\"id\": \"{mirrored[0]['id']}\"' {base}/taurusdb").stdout.split()
        assert len(files) == 1, files
        assert b'"time_zone"' in open(files[0], "rb").read()  # the per-instance record
        kept = sh(f"grep -rl '\"take_up_time\"' {base}/taurusdb").stdout.split()
        manual_gone = [b for b in p["taurusdb"]["project_backups"] if b["instance_id"] not in live]
        assert len(kept) == len(manual_gone) > 0, (len(kept), len(manual_gone))
        # RDS cannot list a deleted instance's backups: only listed instances
        assert len(os.listdir(os.path.join(base, "rds"))) == len(p["rds"]["instances"])


def test_services_option_limits_tree(sim):
    fleet = fleet_exact(sim)
    start = time.time()
    with Mount(BINARY, sim, options={"services": "rds:dds"}) as m:
        sim.reset_counts()
        compare_tree(m, fleet, start, services=("dds", "rds"))
        for p in os.listdir(m.dir):
            assert sorted(os.listdir(m.path(p))) == ["dds", "rds"]
        routes = set(api_counts(sim))
        assert routes <= {"rds.instances", "rds.backups", "dds.instances", "dds.backups"}, routes
        assert api_counts(sim) == minimal_calls(fleet, services=("dds", "rds")), api_counts(sim)


def test_taurusdb_deleted_list_only_with_its_directory(sim):
    fleet = fleet_exact(sim)
    with Mount(BINARY, sim) as m:
        sim.reset_counts()
        for p in os.listdir(m.dir):
            os.listdir(m.path(p, "rds"))
        assert sim.count("taurusdb.project_backups") == 0, api_counts(sim)
        for p in os.listdir(m.dir):
            os.listdir(m.path(p, "taurusdb"))
        assert sim.count("taurusdb.project_backups") == len(projects_of(fleet)), api_counts(sim)


def test_password_walk_across_token_renewal(sim):
    fleet = fleet_exact(sim)
    n_projects = len(projects_of(fleet))
    sim.post("/_sim/tokens", {"lifetime": 8})
    before = tokens(sim)["issued"]
    try:
        with Mount(BINARY, sim, credentials=None, env=password_env(), options={"ttl": "1"}) as m:
            t0 = time.monotonic()
            rc, err = read_everything(m)
            assert rc == 0, err
            first = tokens(sim)["issued"]
            assert time.monotonic() - t0 < 3.5, "the first walk must end before the tokens' half-life"
            grown = {k: first.get(k, 0) - before.get(k, 0) for k in first}
            assert sum(grown.values()) == n_projects + 1, grown  # one per project + the domain's
            # past half the tokens' life (8 s), before their expiry: renewed, not refused
            time.sleep(max(0.0, 4.5 - (time.monotonic() - t0)))
            sim.reset_counts()
            rc, err = read_everything(m)
            assert rc == 0 and "denied" not in err, err
            second = tokens(sim)["issued"]
            grown = {k: second.get(k, 0) - first.get(k, 0) for k in second}
            assert sum(grown.values()) == n_projects + 1 and max(grown.values()) == 1, grown
            assert sim.counts()["auth_failures"] == 0, sim.counts()
    finally:
        sim.post("/_sim/tokens", {"lifetime": 86400})


def test_password_one_reauth_after_revocation(sim):
    fleet = fleet_exact(sim)
    n_projects = len(projects_of(fleet))
    with Mount(BINARY, sim, credentials=None, env=password_env(), options={"ttl": "1"}) as m:
        rc, err = read_everything(m)
        assert rc == 0, err
        # every token revoked behind the client's back (a password change does that)
        sim.post("/_sim/tokens", {"revoke": True})
        first = tokens(sim)["issued"]
        time.sleep(1.2)  # past ttl: every listing is fetched again
        sim.reset_counts()
        rc, err = read_everything(m)
        assert rc == 0 and "denied" not in err, err
        second = tokens(sim)["issued"]
        grown = {k: second.get(k, 0) - first.get(k, 0) for k in second}
        # exactly one re-auth per project (and the domain), however many listings saw a 401
        assert sum(grown.values()) == n_projects + 1 and max(grown.values()) == 1, grown
        assert "authenticating again" in m.output()


def test_password_refused_fails_before_mounting(sim):
    m = Mount(BINARY, sim, credentials=None, env=password_env("wrong-" + PASSWORD))
    try:
        m.start()
    except MountError as e:
        out = str(e)
    else:
        m.stop()
        raise AssertionError("mounted with a wrong password")
    m.stop()
    assert "401" in out or "denied" in out.lower() or "refused" in out.lower(), out
    assert PASSWORD not in out


def test_password_never_in_log_env_or_argv(sim):
    with Mount(BINARY, sim, credentials=None, env=password_env(), debug=True) as m:
        rc, err = read_everything(m)
        assert rc == 0, err
        pid = m.proc.pid
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert PASSWORD.encode() not in f.read()
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert PASSWORD.encode() not in f.read()
        m.stop()
        log = m.output()
    assert len(log) > 200, log
    assert PASSWORD not in log
    assert "simiam-" not in log  # no token issued by IAM either


def test_fixed_token_expiry_says_so(sim):
    fleet = fleet_exact(sim)
    p = projects_of(fleet)[0]
    sim.post("/_sim/tokens", {"lifetime": 3})
    try:
        body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": USER, "password": PASSWORD, "domain": {"name": DOMAIN}}}},
            "scope": {"project": {"id": p["record"]["id"]}}}})
        status, headers, _ = sim.request("POST", "/iam/v3/auth/tokens", body=body.encode())
        assert status == 201, status
        token = {k.lower(): v for k, v in headers.items()}["x-subject-token"]
    finally:
        sim.post("/_sim/tokens", {"lifetime": 86400})
    t0 = time.monotonic()
    with Mount(BINARY, sim, credentials=None, env={"DBBACKUPFS_TOKEN": token},
               options={"ttl": "1", "projects": shown_name(p)}) as m:
        os.listdir(m.path(shown_name(p), "rds"))
        time.sleep(max(0.0, 3.5 - (time.monotonic() - t0)))
        try:
            # a listing never fetched before (a fetched one may be served stale)
            os.listdir(m.path(shown_name(p), "dds"))
        except PermissionError:
            pass
        else:
            raise AssertionError("an expired token still listed")
        assert "has expired" in m.output(), m.output()[-2000:]


TESTS = [
    test_six_services_tree_exact,
    test_deleted_instances,
    test_services_option_limits_tree,
    test_taurusdb_deleted_list_only_with_its_directory,
    test_password_walk_across_token_renewal,
    test_password_one_reauth_after_revocation,
    test_password_refused_fails_before_mounting,
    test_password_never_in_log_env_or_argv,
    test_fixed_token_expiry_says_so,
]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, SIM_ARGS))
