"""Spend by level on the month's page: the bars add up to the month, and a provider sees only its own."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.selectors import level_totals


@pytest.mark.django_db
def test_spend_by_level_for_the_bureau_and_for_one_provider(settle, billed, bureau_user, provider_user, other_provider):
    billed(level="full")  # 626.00, provider_user's provider
    billed(level="partial")  # 313.00
    billed(level="partial", provider=other_provider)  # 313.00, someone else's
    settlement = settle(2026, 10, actor=bureau_user)

    county = {row["level"]: row for row in level_totals(actor=bureau_user, settlement=settlement)}
    assert county["失能"]["amount"] == Decimal("626.00") and county["失能"]["percent"] == 100
    assert county["半失能"]["amount"] == Decimal("626.00") and county["半失能"]["recipients"] == 2
    assert county["自理"]["amount"] == Decimal("0.00") and county["自理"]["percent"] == 0
    assert sum(row["amount"] for row in county.values()) == settlement.gross

    own = {row["level"]: row["amount"] for row in level_totals(actor=provider_user, settlement=settlement)}
    assert own == {"自理": Decimal("0.00"), "半失能": Decimal("313.00"), "失能": Decimal("626.00")}


@pytest.mark.django_db
def test_the_month_page_shows_the_chart(settle, billed, bureau_user, client_as):
    billed(level="full")
    settlement = settle(2026, 10, actor=bureau_user)
    page = client_as(bureau_user).get(reverse("billing:settlement_detail", args=[settlement.pk])).content.decode()
    assert "按自理能力等级" in page and "¥626.00（1人）" in page
