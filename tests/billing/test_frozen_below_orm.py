"""A confirmed month's money cannot be changed even below the ORM (PostgreSQL triggers)."""

import pytest
from django.db import DatabaseError, connection, transaction

from billing.actions import payment_record
from billing.models import Payment, ProviderSettlement, Settlement, SettlementLine

from .conftest import confirm_month

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")


@pytest.fixture
def confirmed(settle, billed, bureau_user):
    billed(level="full")
    billed(level="partial")
    settlement = settle(2026, 10, actor=bureau_user)
    return confirm_month(actor=bureau_user, settlement=settlement)


def refused(statement):
    with pytest.raises(DatabaseError, match="冻结"), transaction.atomic():
        statement()


@pytest.mark.django_db
def test_lines_totals_and_payments_of_a_confirmed_month_cannot_be_changed(confirmed):
    lines = SettlementLine.objects.filter(settlement=confirmed)
    refused(lambda: lines.update(amount=0))
    refused(lambda: lines.delete())
    refused(lambda: ProviderSettlement.objects.filter(settlement=confirmed).update(net=0))
    refused(lambda: Payment.objects.filter(settlement=confirmed).update(amount=1))
    refused(lambda: Settlement.objects.filter(pk=confirmed.pk).update(net=1))
    refused(lambda: Settlement.objects.filter(pk=confirmed.pk).update(status="draft"))

    def raw_sql():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_settlementline SET amount = amount + 1 WHERE settlement_id = %s", [confirmed.pk]
            )

    refused(raw_sql)
    assert sum(line.amount for line in lines) == confirmed.gross


@pytest.mark.django_db
def test_a_confirmed_month_can_still_be_paid(confirmed, finance_user):
    import datetime

    for payment in Payment.objects.filter(settlement=confirmed):
        payment_record(actor=finance_user, payment=payment, paid_on=datetime.date.today(), voucher_number="记-001")
    paid = Settlement.objects.get(pk=confirmed.pk)
    assert paid.status == "paid"
    refused(lambda: Settlement.objects.filter(pk=paid.pk).update(status="confirmed"))


@pytest.mark.django_db
def test_a_draft_month_is_not_frozen(settle, billed, bureau_user):
    billed(level="full")
    draft = settle(2026, 10, actor=bureau_user)
    assert SettlementLine.objects.filter(settlement=draft).update(amount=0) == 1
