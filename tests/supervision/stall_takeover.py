"""Imported by a real worker (`--include`): a takeover stops after moving STALL_AFTER agreements
(tests/stall.py), with its transaction open."""

from supervision.actions import takeover
from tests.stall import stall_after

takeover.agreement_create = stall_after(takeover.agreement_create)
