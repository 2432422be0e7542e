#!/usr/bin/env python3
"""seeds.py OUTDIR: seed corpora for the fuzz targets, from tests/data and a live cloudsim.

Writes OUTDIR/<target>/<n> files (nothing is committed: tools/fuzz runs this each time).
The simulator is $CLOUDSIM; its pages, error bodies and the names, IDs and times of its
fleet's records become seeds in the shape each target reads (see tests/fuzz/fuzz_*.c).
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cloudsim import CloudSim  # noqa: E402

N_LISTINGS = 32  # first-byte selectors tried for page/sweep (the target takes them modulo)


def main(out):
    seeds = {t: [] for t in ("rawjson", "page", "sweep", "iam", "errbody", "timeparse",
                             "names", "endpoint", "keyfile", "cmdline")}
    bodies = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(HERE, "..", "data",
                                                                           "*.json")))]
    errors = []
    with CloudSim(["--projects", "2", "--instances", "3", "--backups", "3"]) as sim:
        truth = sim.fleet()
        p0 = truth["projects"][0]
        pid = p0["record"]["id"]
        status, _, body = sim.api_get("/iam/v3/auth/projects", pid)
        seeds["iam"].append(body)
        inst = p0["taurusdb"]["instances"][0]["id"]
        paths = ["/taurusdb/v3/%s/instances?limit=2" % pid,
                 "/taurusdb/v3/%s/instances/%s/backups?limit=2" % (pid, inst),
                 "/geminidb/v3/%s/instances?limit=2" % pid,
                 "/geminidb/v4/%s/backups?limit=2&offset=0" % pid,
                 "/ddm/v1/%s/instances?limit=2" % pid,
                 "/ddm/v3/%s/backups?limit=2" % pid,
                 "/ddm/v3/%s/backups?limit=2&offset=2" % pid]
        for path in paths:
            status, _, body = sim.api_get(path, pid)
            (bodies if status == 200 else errors).append(body)
        errors.append(sim.api_get("/taurusdb/v3/%s/instances?limit=1000" % pid, pid)[2])
        errors.append(sim.api_get("/ddm/v1/%s/instances?offset=-1" % pid, pid)[2])
        errors.append(sim.api_get("/taurusdb/v3/%s/instances" % pid, "nobody")[2])
        sim.set_faults(throttle_rate=1)
        errors.append(sim.api_get("/ddm/v3/%s/backups" % pid, pid)[2])
        sim.set_faults(throttle_rate=0)
    errors.append(b'{"error":{"code":"401","message":"The request you have made requires '
                  b'authentication.","title":"Unauthorized"}}')
    errors.append(b'{"code":"APIGW.0301","message":"Incorrect IAM authentication","request_id":"x"}')

    seeds["rawjson"] += bodies
    seeds["errbody"] += [bytes([i]) + e for i, e in enumerate(errors)]
    for i in range(N_LISTINGS):
        for b in bodies:
            seeds["page"].append(bytes([i]) + b)
        seeds["sweep"].append(bytes([i, i % 3]) + b"\0".join(bodies[:3]))

    times, names = set(), []
    for p in truth["projects"]:
        for svc, v in p.items():
            if not isinstance(v, dict):
                continue
            for rec in v.get("instances", []) + v.get("backups", []):
                for k in ("created", "updated", "begin_time", "end_time", "time_zone"):
                    if isinstance(rec.get(k), str):
                        times.add(rec[k])
                names.append((str(rec.get("name", "")), str(rec.get("id", ""))))
    times |= {"2025-02-19T02:50:20+0000", "2024-01-01 00:00:00", "1999-12-31T23:59:60Z",
              "2020-02-29T12:00:00.123+08:00", "UTC+08:00", "GMT-5", "+0530"}
    seeds["timeparse"] += [t.encode() + b"\0UTC+08:00" for t in sorted(times)]
    flat = b"\0".join(n.encode() + b"\0" + i.encode() for n, i in names[:16])
    seeds["names"] += [flat, b"a\0id1\0a\0id2\0..\0x/y\0\x01\0id3"]
    seeds["endpoint"] += [b"http://127.0.0.1:8080/{service}\0taurusdb\0ap-southeast-1",
                          b"https://{service}.{region}.example.com\0iam\0",
                          b"\0ddm\0eu-west-101", b"ap-southeast-1_sub\0geminidb\0cn-north-4"]
    seeds["keyfile"] += [
        b"[dbbackupfs]\nttl=120\nendpoint=http://127.0.0.1:1/{service}\nservices=taurusdb,ddm\n"
        b"max_conns=4\ntimeout=5\n\n[auth]\nak=AK\nsk=SK\n\n[project ap-southeast-1]\nid=abc\n"
        b"region=ap-southeast-1\n\n[service ddm]\nendpoint=https://ddm.example.com\n",
        b"[auth]\ntoken=t\n", b"[auth]\ntoken_file=/nonexistent\n# comment\n",
        b"[dbbackupfs]\nprojects=a,b\nnegative_ttl=0\nmax_stale=1e9\n"]
    seeds["cmdline"] += [b"-o\0ttl=5,max_conns=2,ro,allow_other", b"-f\0-d",
                         b"-o\0endpoint=http://127.0.0.1:9/{service},services=ddm",
                         b"--help", b"-o\0uid=1000,gid=1000,fsname=x,sk=secret"]

    for target, items in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for n, data in enumerate(items):
            with open(os.path.join(d, "seed-%03d" % n), "wb") as f:
                f.write(data)
    print("seeds: " + ", ".join("%s %d" % (t, len(v)) for t, v in seeds.items()))


if __name__ == "__main__":
    main(sys.argv[1])
