"""tools/demo ends what it started, and its printed commands run clean.

tools/demo runs on a pseudo-terminal of its own, as from a terminal, with DBBACKUPFS and
CLOUDSIM set (so it neither installs nor builds) and TMPDIR private to the test:

- busy: every printed command runs clean (status 0, nothing on stderr); then a shell sits
  inside the mount and Ctrl-C is typed twice: the demo says the unmount failed, unmounts
  lazily, and exits 130 with no mount, no dbbackupfs, no cloudsim and no temp dir left
  (and removes the mount point it created);
- idle: one Ctrl-C on an idle mount unmounts cleanly (no failure reported) and keeps a
  mount point that existed before;
- SIGTERM to the demo alone (as `kill` would) also ends everything, exit 143.

Exit 77 when FUSE is absent.
"""

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from mount import fuse_available

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "tools", "demo")
START_TIMEOUT = 120  # the ASan build is slow to start and walk


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def mountinfo_has(path):
    esc = path.replace("\\", "\\134").replace(" ", "\\040")
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == esc for line in f)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Demo:
    """tools/demo MOUNTPOINT on a pty: the pty is its controlling terminal, so a Ctrl-C
    written to it is a SIGINT to the demo's foreground process group, as in a terminal."""

    def __init__(self, mnt, tmpdir):
        env = dict(os.environ, TMPDIR=tmpdir, TERM="dumb")
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve(DEMO, [DEMO, mnt], env)
            finally:
                os._exit(127)
        self.pid, self.fd, self.out, self.status = pid, fd, b"", None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the demo closed the terminal
            data = b""
        self.out += data
        return bool(data)

    def text(self):
        return self.out.decode(errors="replace").replace("\r\n", "\n")

    def read_until(self, pattern, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text()):
            if time.monotonic() > deadline or not self._read(0.2) or self.exited():
                self._read(0.5)
                raise AssertionError(f"no {pattern!r} from tools/demo; it printed:\n{self.text()}")
        return re.search(pattern, self.text())

    def exited(self):
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def ctrl_c(self):
        os.write(self.fd, b"\x03")

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                os.killpg(self.pid, signal.SIGKILL)
                raise AssertionError(f"tools/demo still running after {timeout} s:\n{self.text()}")
            self._read(0.1)
        while self._read(0.1):
            pass
        os.close(self.fd)
        return os.waitstatus_to_exitcode(self.status)


def started(demo):
    m = demo.read_until(r"dbbackupfs pid (\d+), cloudsim pid (\d+), logs in (\S+)\)")
    demo.read_until(r"Press Ctrl-C")
    fs, sim = int(m.group(1)), int(m.group(2))
    # The pids printed are the programs themselves (not a wrapper that has exited), so
    # "has ended" below means they ended.
    for pid, var in ((fs, "DBBACKUPFS"), (sim, "CLOUDSIM")):
        exe = os.readlink(f"/proc/{pid}/exe")
        check(exe == os.path.realpath(os.environ[var]), f"pid {pid} is {exe}")
    return fs, sim, m.group(3)


def printed_commands(text):
    block = text.split("Try, in another terminal:\n", 1)[1].split("Press Ctrl-C", 1)[0]
    return [line.strip() for line in block.splitlines() if line.startswith("  ")]


def check_ended(demo, code, fs, sim, logs, mnt, tmpdir):
    status = demo.wait()
    check(status == code, f"tools/demo exits {code} (got {status})")
    check(not mountinfo_has(mnt), "nothing is mounted on the mount point")
    check(not alive(fs), f"dbbackupfs (pid {fs}) has ended")
    check(not alive(sim), f"cloudsim (pid {sim}) has ended")
    check(not os.path.exists(logs), f"the temp folder {logs} is removed")
    check(os.listdir(tmpdir) == [], "nothing is left in TMPDIR")


def busy(base):
    """Printed commands, then a shell inside the mount and two Ctrl-C."""
    mnt, tmpdir = os.path.join(base, "busy mnt"), tempfile.mkdtemp(dir=base)
    demo = Demo(mnt, tmpdir)
    fs, sim, logs = started(demo)
    commands = printed_commands(demo.text())
    check(len(commands) >= 6, f"the demo prints {len(commands)} commands")
    for cmd in commands:
        r = subprocess.run(["bash", "-c", cmd], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        check(r.returncode == 0 and r.stderr == b"" and r.stdout != b"",
              f"runs clean: {cmd} (status {r.returncode}, stderr {r.stderr[:200]!r})")
    project = sorted(os.listdir(mnt))[0]
    shell = subprocess.Popen(["bash", "-c", "read -r _"], cwd=os.path.join(mnt, project),
                             stdin=subprocess.PIPE)
    try:
        demo.ctrl_c()
        time.sleep(0.2)
        demo.ctrl_c()
        check_ended(demo, 130, fs, sim, logs, mnt, tmpdir)
        text = demo.text()
        check(re.search(r"fusermount3 -u .* failed: .*busy", text, re.I) is not None,
              "the failed unmount is reported with its reason")
        check("Unmounted it lazily (fusermount3 -uz)" in text, "the demo unmounts lazily itself")
        check("failed too" not in text, "the lazy unmount worked")
        check(not os.path.exists(mnt), "the mount point the demo created is removed")
    finally:
        shell.kill()
        shell.wait()


def idle(base):
    """One Ctrl-C, nothing inside the mount: a clean unmount; an existing mount point stays."""
    mnt, tmpdir = os.path.join(base, "mnt"), tempfile.mkdtemp(dir=base)
    os.mkdir(mnt)
    demo = Demo(mnt, tmpdir)
    fs, sim, logs = started(demo)
    demo.ctrl_c()
    check_ended(demo, 130, fs, sim, logs, mnt, tmpdir)
    check("failed" not in demo.text(), "no failure reported")
    check(os.path.isdir(mnt) and os.listdir(mnt) == [], "the mount point that existed stays, empty")


def terminated(base):
    """SIGTERM to the demo's own pid (not its group), as `kill PID` sends it."""
    mnt, tmpdir = os.path.join(base, "mnt-term"), tempfile.mkdtemp(dir=base)
    demo = Demo(mnt, tmpdir)
    fs, sim, logs = started(demo)
    os.kill(demo.pid, signal.SIGTERM)
    check_ended(demo, 143, fs, sim, logs, mnt, tmpdir)


def main():
    if not fuse_available() or shutil.which("fusermount3") is None:
        print("SKIP: FUSE is not available")
        return 77
    for var in ("DBBACKUPFS", "CLOUDSIM"):
        if not os.environ.get(var):
            print(f"{var} is not set (meson test sets it)")
            return 1
    base = tempfile.mkdtemp(prefix="dbbfs-demo-test-")
    try:
        for scenario in (busy, idle, terminated):
            print(f"== {scenario.__name__}: {scenario.__doc__.splitlines()[0]}")
            scenario(base)
    finally:
        for path in (os.path.join(base, d) for d in os.listdir(base)):
            if mountinfo_has(path):
                subprocess.run(["fusermount3", "-uz", path])
        shutil.rmtree(base, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
