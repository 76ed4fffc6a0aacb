"""The demo county opens with last month's settlement draft, as the beat makes it on the 1st, and the evidence
deductions of the demo contracts (K04 per missed standard visit, K05 for a town's evaluation below 60) proposed
on it for the bureau to decide before it can be confirmed."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from billing.actions import settlement_confirm
from billing.models import ProposalKind, Settlement, SettlementStatus
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import User

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 18, 0, 20, tzinfo=datetime.UTC)  # 08:20, 18 November 2026 in Shen County


@pytest.fixture
def demo(capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", recipients=16)
        call_command("seed_demo_visits")
        capsys.readouterr()
        yield


def test_last_months_draft_is_there_with_the_evidence_deductions_to_decide(demo, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo_settlement")
    settlement = Settlement.objects.get()
    assert settlement.month == datetime.date(2026, 10, 1) and settlement.status == SettlementStatus.DRAFT
    assert settlement.gross > 0
    proposals = list(settlement.proposals.select_related("rule"))
    assert proposals, "the demo contracts' evidence rules propose deductions"
    missed = [p for p in proposals if p.kind == ProposalKind.MISSED_VISITS]
    assert {p.kind for p in proposals} == {ProposalKind.MISSED_VISITS}, [p.evidence for p in proposals]
    for proposal in missed:
        # each one missing standard visit costs the contract's K04 amount, 10.00 yuan
        assert proposal.rule.code == "K04" and proposal.rule.amount == Decimal("10.00")
        assert proposal.amount == Decimal("10.00") * proposal.evidence["missed"]
        assert proposal.evidence["required"] - proposal.evidence["done"] == proposal.evidence["missed"] > 0
    output = capsys.readouterr().out
    assert "2026年10月结算草稿" in output and f"待决定的扣款建议 {len(proposals)} 条" in output
    # undecided evidence blocks the confirmation, as on the 1st
    with pytest.raises(ApplicationError):
        settlement_confirm(actor=User.objects.get(username="bureau"), settlement=settlement)


def test_a_second_run_leaves_the_draft_alone(demo):
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo_settlement")
        first = Settlement.objects.values_list("pk", "run_finished_at").get()
        call_command("seed_demo_settlement")
    assert Settlement.objects.values_list("pk", "run_finished_at").get() == first
