"""Billing fixtures: a month helper and a builder for a recipient billed by a provider."""

import datetime

import pytest

from billing.actions import settlement_compute
from billing.models import SettlementLine
from contracts.models import AgreementStatus
from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory, RecipientFactory


@pytest.fixture
def settle():
    def run(year, month, actor=None):
        return settlement_compute(actor=actor, month=datetime.date(year, month, 1))

    return run


@pytest.fixture
def billed(provider):
    """billed(level=..., entry=..., exit=..., start=..., end=..., provider=..., caregiver=...) → recipient."""

    def make(
        *,
        level="self_care",
        entry=datetime.date(2024, 1, 1),
        exit=None,
        start=None,
        end=None,
        provider=provider,
        caregiver=None,
        status=AgreementStatus.SIGNED,
    ):
        recipient = RecipientFactory(level=level, entry_date=entry, exit_date=exit)
        if provider is not None:
            contract = provider.contracts.first() or ContractFactory(provider=provider)
            AgreementFactory(
                recipient=recipient,
                provider=provider,
                contract=contract,
                start_date=start or entry,
                end_date=end,
                status=status,
                caregiver=caregiver or CaregiverFactory(provider=provider),
            )
        return recipient

    return make


def line_of(settlement, recipient, provider=None):
    qs = SettlementLine.objects.filter(settlement=settlement, recipient=recipient, kind="regular")
    if provider is not None:
        qs = qs.filter(provider=provider)
    return qs.get()


@pytest.fixture
def two_provider_month(billed, provider, other_provider, bureau_user):
    """March 2024: two recipients with `provider` in 燕塔街道, one with `other_provider` in 朝城镇; confirmed."""
    from tests.factories import VillageFactory, town

    from .factories import DeductionFactory

    ours = [billed(), billed(level="full")]
    chaocheng = VillageFactory(town=town("朝城镇"))
    theirs = RecipientFactory(village=chaocheng, level="partial")
    AgreementFactory(
        recipient=theirs,
        provider=other_provider,
        contract=ContractFactory(provider=other_provider),
        caregiver=CaregiverFactory(provider=other_provider),
    )
    DeductionFactory(provider=other_provider, contract=other_provider.contracts.first(), amount=10)
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    confirm_month(actor=bureau_user, settlement=settlement)
    settlement.refresh_from_db()
    return settlement, ours, theirs


def add_recipients(provider, n, month=datetime.date(2024, 3, 1)):
    for _ in range(n):
        recipient = RecipientFactory(entry_date=month)
        contract = provider.contracts.first() or ContractFactory(provider=provider)
        AgreementFactory(
            recipient=recipient, provider=provider, contract=contract, caregiver=CaregiverFactory(provider=provider)
        )


def confirm_month(*, actor, settlement):
    """Confirm a month whose test data has no visits: the 本月没有任何上门服务记录 proposals are waived on the record
    first, as the bureau must (tests/billing/test_proposals.py covers the proposals themselves)."""
    from billing.actions import settlement_confirm

    waive_no_visit_proposals(actor, settlement)
    return settlement_confirm(actor=actor, settlement=settlement)


def waive_no_visit_proposals(actor, settlement):
    from billing.actions import proposals_decide
    from billing.models import DeductionProposal

    undecided = list(DeductionProposal.objects.filter(settlement=settlement).undecided().values_list("pk", flat=True))
    if undecided:
        reason = "测试：无上门数据"
        proposals_decide(actor=actor, settlement=settlement, proposal_ids=undecided, accept=False, reason=reason)
