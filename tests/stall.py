"""Test-only: stop a real worker mid-work at a known point, so that a test can kill it there (kill -9).

A hook module (tests/billing/stall_settlement.py, tests/supervision/stall_takeover.py) is imported by the worker
with `--include`; it wraps one step of the work with `stall_after`. The worker started with STALL_MARKER (a file
path) and STALL_AFTER (a count) does the step that many times, writes the marker (the test waits for it) and
sleeps until it is killed, with its transaction open and its lease beating. A worker started without
STALL_MARKER runs the work as usual."""

import functools
import os
import time
from pathlib import Path


def stall_after(step, *, before_stalling=None):
    """`step` wrapped: the STALL_AFTER-th call (this process) writes STALL_MARKER and sleeps for good."""
    marker = os.environ.get("STALL_MARKER")
    if not marker:
        return step
    after = int(os.environ.get("STALL_AFTER", "1"))
    calls = {"n": 0}

    @functools.wraps(step)
    def wrapped(*args, **kwargs):
        result = step(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == after:
            if before_stalling is not None:
                before_stalling(*args, **kwargs)
            Path(marker).write_text(str(os.getpid()))
            time.sleep(float(os.environ.get("STALL_SECONDS", "600")))
        return result

    return wrapped
