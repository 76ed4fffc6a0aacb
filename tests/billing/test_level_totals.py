"""Spend by level on the month's page: the levels add up to the month, and a provider sees only its own."""

import json
import re
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
    assert list(county) == ["自理", "半失能", "失能"]
    assert county["失能"]["amount"] == Decimal("626.00") and county["失能"]["recipients"] == 1
    assert county["半失能"]["amount"] == Decimal("626.00") and county["半失能"]["recipients"] == 2
    assert county["自理"]["amount"] == Decimal("0.00") and county["自理"]["recipients"] == 0
    assert sum(row["amount"] for row in county.values()) == settlement.gross

    own = {row["level"]: row["amount"] for row in level_totals(actor=provider_user, settlement=settlement)}
    assert own == {"自理": Decimal("0.00"), "半失能": Decimal("313.00"), "失能": Decimal("626.00")}


@pytest.mark.django_db
def test_the_month_page_shows_the_chart_over_a_table(settle, billed, bureau_user, client_as):
    billed(level="full")
    settlement = settle(2026, 10, actor=bureau_user)
    response = client_as(bureau_user).get(reverse("billing:settlement_detail", args=[settlement.pk]))
    page = response.content.decode()
    # the table reads without scripts
    assert "按自理能力等级" in page and '<td>失能</td><td class="num">1</td><td class="num">¥626.00</td>' in page
    assert '<div class="chart-box" hidden><canvas role="img" aria-label="柱状图：本月按自理能力等级' in page
    # the chart's figures: money as the Decimal's text, never a float
    data = json.loads(re.search(r'<script id="level-totals" type="application/json">(.*?)</script>', page).group(1))
    assert data == [
        {"level": "自理", "recipients": 0, "amount": "0.00"},
        {"level": "半失能", "recipients": 0, "amount": "0.00"},
        {"level": "失能", "recipients": 1, "amount": "626.00"},
    ]
    assert "/static/billing/settlement.js" in page and "<script>" not in page
