"""The integration suites' main(): run each test_* function against one simulator.

    from runner import run_tests
    sys.exit(run_tests(TESTS, SIM_ARGS))

Exit 77 (skipped) only when FUSE is absent; otherwise 0 when every test passed.  Each test
is called with the running CloudSim (or with nothing, when it takes no argument); after each, faults are cleared and counts reset.
DBB_ONLY=a,b runs only the tests named (with or without their test_ prefix).  Closing
line: "N passed, N failed".
"""

import os
import time
import traceback

from cloudsim import CloudSim
from mount import fuse_available


def _clear(sim):
    try:
        sim.set_faults(outage=False, error_rate=0, throttle_rate=0, truncate_rate=0, reset_rate=0)
        sim.reset_counts()
    except Exception:
        pass


def run_tests(tests, sim_args):
    if not fuse_available():
        print("FUSE is not available (/dev/fuse): skipping")
        return 77
    only = set(filter(None, os.environ.get("DBB_ONLY", "").split(",")))
    passed = failed = 0
    with CloudSim(sim_args) as sim:
        for t in tests:
            if only and t.__name__ not in only and t.__name__[5:] not in only:
                continue
            t0 = time.monotonic()
            try:
                t(sim) if t.__code__.co_argcount else t()
                passed += 1
                print(f"ok   {t.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {t.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
                traceback.print_exc()
            finally:
                _clear(sim)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
