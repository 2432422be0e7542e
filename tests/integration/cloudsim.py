#!/usr/bin/env python3
"""cloudsim.py: run the cloud simulator for integration tests (Python 3 standard library only).

    from cloudsim import CloudSim

    with CloudSim(args=["--projects", "3"]) as sim:
        mount_with(endpoint=sim.endpoint)          # "http://127.0.0.1:PORT/{service}"
        sim.reset_counts()
        ...
        assert sim.counts()["routes"]["taurusdb.backups"] == 2
        truth = sim.fleet()                        # the ground truth, as served

The simulator binary is the `binary` argument, else $CLOUDSIM (meson sets it for every test).
Each CloudSim is one process on a free port of 127.0.0.1. It prints exactly one line on stdout
(its URL) and exits cleanly on SIGTERM. Control requests bypass any HTTP proxy from the
environment.

Run `python3 cloudsim.py --selftest` to check the fixture against the simulator.
"""

import ctypes
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

URL_PREFIX = "cloudsim listening on "
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

DEFAULT_AK = "AKSIMULATOR00000000000"
DEFAULT_SK = "SKsimulator00000000000000000000000000000"
DEFAULT_DOMAIN_ID = "simdomain0000000000000000000000000"


class CloudSimError(Exception):
    """The simulator could not be started, or a control request failed."""


def _die_with_parent():
    # Linux: SIGTERM the simulator when the test process dies, even on a crash.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class CloudSim:
    """One cloudsim process: CloudSim(args, binary=None). Methods raise CloudSimError on
    failure; a context manager starts it (unless started) and stops it."""

    def __init__(self, args=(), binary=None):
        self.binary = binary or os.environ.get("CLOUDSIM")
        self.args = list(args)
        self.proc = None
        self.base_url = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ----- life cycle -----

    def start(self, args=None):
        """Runs BINARY --port 0 --quiet ARGS... and waits (<= 10 s) for its URL line."""
        if args is not None:
            self.args = list(args)
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise CloudSimError("cloudsim binary not found (set $CLOUDSIM): %r" % self.binary)
        cmd = [self.binary, "--port", "0", "--quiet"] + [str(a) for a in self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        line = self._read_line(START_TIMEOUT)
        if not line.startswith(URL_PREFIX):
            self._kill()
            raise CloudSimError("cloudsim did not print its URL within %.0f s (got %r)"
                                % (START_TIMEOUT, line))
        self.base_url = line[len(URL_PREFIX):].strip()
        return self

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not buf.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                chunk = os.read(fd, 1)
                if not chunk:
                    break
                buf += chunk
        return buf.decode("utf-8", "replace")

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM, wait (<= 5 s, then SIGKILL). Returns the exit status (0 = clean)."""
        if not self.proc:
            return None
        status = self.proc.poll()
        if status is None:
            self.proc.terminate()
            try:
                status = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
                status = self.proc.returncode
        self.proc.stdout.close()
        self.proc = None
        return status

    def __enter__(self):
        if not self.proc:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ----- addresses -----

    @property
    def endpoint(self):
        """The endpoint template for dbbackupfs: http://127.0.0.1:PORT/{service}."""
        return self.base_url + "/{service}"

    @property
    def port(self):
        return int(self.base_url.rsplit(":", 1)[1])

    # ----- HTTP -----

    def request(self, method, path, body=None, headers=None, timeout=60):
        """Any request. Returns (status, headers, body bytes); status 0 when the
        connection failed or the body was cut short (reset or truncate faults)."""
        data = body if body is None or isinstance(body, bytes) else body.encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers=dict(headers or {}))
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()
        except (urllib.error.URLError, http.client.HTTPException, OSError):
            # Includes a body cut short (IncompleteRead): a truncate fault.
            return 0, {}, b""

    def get(self, path):
        """Control GET, parsed JSON."""
        status, _, body = self.request("GET", path)
        if not 200 <= status < 300:
            raise CloudSimError("GET %s: HTTP %s %s" % (path, status, body[:200]))
        return json.loads(body)

    def post(self, path, obj):
        """Control POST of obj (JSON-encoded unless already str/bytes), parsed reply."""
        body = obj if isinstance(obj, (str, bytes)) else json.dumps(obj, ensure_ascii=False)
        status, _, reply = self.request("POST", path, body,
                                        {"Content-Type": "application/json"})
        if not 200 <= status < 300:
            raise CloudSimError("POST %s: HTTP %s %s" % (path, status, reply[:200]))
        return json.loads(reply)

    def api_get(self, path, project_id=None, token=None):
        """An authenticated API GET with the project's token (or the given one).
        Returns (status, headers, body bytes)."""
        if token is None and project_id is not None:
            token = self.token(project_id)
        headers = {"X-Auth-Token": token} if token else {}
        return self.request("GET", path, headers=headers)

    # ----- control routes -----

    def counts(self):
        return self.get("/_sim/counts")

    def count(self, route):
        """routes[route] of /_sim/counts, or the total for "total"."""
        c = self.counts()
        return c["total"] if route == "total" else c["routes"][route]

    def reset_counts(self):
        return self.post("/_sim/counts/reset", {})

    def requests(self):
        return self.get("/_sim/requests")["requests"]

    def faults(self):
        return self.get("/_sim/faults")

    def set_faults(self, **kw):
        """e.g. set_faults(error_rate=1.0, outage=False, latency_ms=50)."""
        return self.post("/_sim/faults", kw)

    def fleet(self):
        """The ground truth: the fleet document, records exactly as served."""
        return self.get("/_sim/fleet")

    def set_fleet(self, doc):
        """Replaces the fleet atomically (a document as fleet() returns)."""
        return self.post("/_sim/fleet", doc)

    @staticmethod
    def token(project_id):
        return "simtoken-" + project_id


# ----- self-test (meson: test('cloudsim-py')) -----

def _check(cond, what):
    if not cond:
        raise AssertionError(what)


def _selftest(binary=None):
    if not (binary or os.environ.get("CLOUDSIM")):
        print("CLOUDSIM not set: skipped")
        return 77
    with CloudSim(["--projects", "2", "--instances", "2", "--backups", "3"], binary) as sim:
        _check(sim.base_url.startswith("http://127.0.0.1:"), "base_url")
        _check(sim.endpoint == sim.base_url + "/{service}", "endpoint")
        _check(sim.count("total") == 0, "fresh counts")
        truth = sim.fleet()
        projects = truth["projects"]
        _check(projects[-1]["record"]["name"] == "MOS", "MOS last")
        pid = projects[0]["record"]["id"]
        _check(projects[0]["token"] == CloudSim.token(pid), "token")

        status, headers, body = sim.api_get("/iam/v3/auth/projects", pid)
        _check(status == 200, "IAM 200")
        _check(len(headers.get("X-Request-Id", "")) == 32, "X-Request-Id")
        served = json.loads(body)["projects"]
        _check(served == [p["record"] for p in projects], "IAM equals truth")

        inst = projects[0]["taurusdb"]["instances"][0]["id"]
        status, _, body = sim.api_get("/taurusdb/v3/%s/instances/%s/backups" % (pid, inst), pid)
        _check(status == 200 and isinstance(json.loads(body)["total_count"], str),
               "TaurusDB total_count is a string")
        status, _, _ = sim.api_get("/taurusdb/v3/%s/instances" % pid, projects[1]["record"]["id"])
        _check(status == 401, "token of another project: 401")
        _check(sim.count("taurusdb.backups") == 1 and sim.count("total") == 3, "counts")
        log = sim.requests()
        _check([e["status"] for e in log] == [200, 200, 401], "request log")

        sim.set_faults(error_rate=1.0, retry_after=3)
        _check(sim.faults()["error_rate"] == 1.0, "faults read back")
        _check(sim.api_get("/ddm/v3/%s/backups" % pid, pid)[0] == 500, "error fault")
        sim.set_faults(error_rate=0, throttle_rate=1)
        status, headers, body = sim.api_get("/ddm/v3/%s/backups" % pid, pid)
        _check(status == 429 and headers.get("Retry-After") == "3", "throttle fault")
        _check(json.loads(body)["error_code"] == "APIG.0308", "APIG.0308")
        sim.set_faults(throttle_rate=0, reset_rate=1)
        _check(sim.api_get("/ddm/v3/%s/backups" % pid, pid)[0] == 0, "reset fault")
        sim.set_faults(reset_rate=0)
        _check(sim.counts()["faults"]["reset"] == 1, "fault counts")

        sim.reset_counts()
        _check(sim.count("total") == 0 and sim.requests() == [], "reset")

        # Change a backup's status through the truth, as refresh tests do.
        doc = sim.fleet()
        doc["projects"][0]["ddm"]["backups"][0]["status"] = "abnormal"
        sim.set_fleet(doc)
        status, _, body = sim.api_get("/ddm/v3/%s/backups?limit=1" % pid, pid)
        _check(json.loads(body)["backups"][0]["status"] == "abnormal", "fleet replaced")
        proc = sim.proc
    _check(proc.returncode == 0, "clean exit on SIGTERM")
    print("cloudsim.py self-test: OK")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--selftest":
        sys.exit(_selftest(sys.argv[2] if len(sys.argv) > 2 else None))
    print(__doc__)
    sys.exit(2)
