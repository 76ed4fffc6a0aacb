"""Imported by a real worker (`--include`): a settlement run stops after STALL_AFTER recipients (tests/stall.py),
with its progress shown, its lines half computed and its transaction open."""

from billing import persistence
from tests.stall import stall_after


def _show_progress(progress):
    progress._write(progress_done=progress.done)  # as the page would show it: "running, n of N"


persistence.Progress.tick = stall_after(persistence.Progress.tick, before_stalling=_show_progress)
