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
