"""Mount dbbackupfs for real (through /dev/fuse) against a running cloudsim."""

import os
import shutil
import signal
import subprocess
import tempfile
import time


def fuse_available():
    """FUSE is present: the device, and a way to mount it as this user."""
    if not os.path.exists("/dev/fuse"):
        return False
    if shutil.which("fusermount3") is None and os.geteuid() != 0:
        return False
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
        os.close(fd)
    except OSError:
        return False
    return True


class MountError(Exception):
    pass


def in_mount_table(path):
    """path is a mount point in /proc/self/mounts.  os.path.ismount() stats the path, which
    fails with ENOTCONN once the daemon is gone, so it calls a dead FUSE mount "not mounted"
    and the mount would be left behind."""
    path = os.path.realpath(path)
    with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 1 and fields[1].replace("\\040", " ") == path:
                return True
    return False


class Mount:
    """dbbackupfs -f MOUNTPOINT -o endpoint=...,<opts> with AK/SK from the simulator."""

    def __init__(self, binary, sim, options=None, env=None, credentials="aksk", debug=False):
        self.binary = binary
        self.sim = sim
        self.dir = tempfile.mkdtemp(prefix="dbbfs-mnt-")
        self.log_path = os.path.join(tempfile.mkdtemp(prefix="dbbfs-log-"), "daemon.log")
        opts = {"endpoint": sim.endpoint, "ttl": "300", "timeout": "10"}
        opts.update(options or {})
        self.argv = [binary, "-f"] + (["-d"] if debug else []) + [
            self.dir,
            "-o",
            ",".join(f"{k}={v}" if v is not None else k for k, v in opts.items()),
        ]
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("HUAWEICLOUD_SDK_") or k == "DBBACKUPFS_TOKEN":
                del self.env[k]
        self.env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="dbbfs-xdg-")
        # A GLib critical (a broken invariant) aborts the daemon, so the test sees it.
        self.env["G_DEBUG"] = "fatal-criticals"
        if credentials == "aksk":
            creds = sim.fleet()["credentials"]
            self.env["HUAWEICLOUD_SDK_AK"] = creds["ak"]
            self.env["HUAWEICLOUD_SDK_SK"] = creds["sk"]
        self.env.update(env or {})
        self.proc = None

    def start(self, wait=True):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        if not wait:
            return self
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.ismount(self.dir):
                return self
            if self.proc.poll() is not None:
                raise MountError(f"dbbackupfs exited {self.proc.returncode}: {self.output()}")
            time.sleep(0.05)
        raise MountError("not mounted after 20 s: " + self.output())

    def wait_exit(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def output(self):
        try:
            self.log.flush()
        except Exception:
            pass
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Unmount with SIGTERM, as a user would; returns the daemon's exit status."""
        if self.proc is None:
            return None
        if self.log.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if in_mount_table(self.dir):
            subprocess.run(["fusermount3", "-u", "-z", self.dir], check=False)
        self.log.close()
        try:
            os.rmdir(self.dir)
        except OSError:
            pass
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        rc = self.stop()
        # A clean unmount exits 0; anything else (a crash, a sanitizer report) fails the test.
        if exc_type is None and rc != 0:
            raise MountError(f"dbbackupfs exited {rc} on unmount: {self.output()[-3000:]}")
