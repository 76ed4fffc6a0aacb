import datetime

import pytest

from .factories import contract_with_rule, serve

MONTH = datetime.date(2026, 10, 1)


@pytest.fixture
def month():
    return MONTH


@pytest.fixture
def provider_contract(provider):
    """The provider's contract (every town) with one deduction-schedule line of 200 yuan."""
    return contract_with_rule(provider)


@pytest.fixture
def yanta_agreements(provider_contract, provider):
    """Three recipients of 燕塔街道 served by `provider`."""
    return serve(provider, "燕塔街道", n=3)
