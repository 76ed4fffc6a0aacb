"""A confirmed month's money cannot be changed even below the ORM: no UPDATE or DELETE (PostgreSQL), no new row,
no row moved in (PostgreSQL and SQLite), no TRUNCATE (PostgreSQL)."""

import pytest
from django.db import DatabaseError, connection, transaction

from billing.actions import payment_record
from billing.models import DeductionApplication, Payment, ProviderSettlement, Settlement, SettlementLine
from tests.factories import ProviderFactory, RecipientFactory

from .conftest import confirm_month

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="these triggers are PostgreSQL's")


@pytest.fixture
def confirmed(settle, billed, bureau_user):
    billed(level="full")
    billed(level="partial")
    settlement = settle(2026, 10, actor=bureau_user)
    return confirm_month(actor=bureau_user, settlement=settlement)


def refused(statement):
    with pytest.raises(DatabaseError, match="冻结"), transaction.atomic():
        statement()


@postgresql_only
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


@postgresql_only
@pytest.mark.django_db
def test_a_confirmed_month_can_still_be_paid(confirmed, finance_user):
    import datetime

    for payment in Payment.objects.filter(settlement=confirmed):
        payment_record(actor=finance_user, payment=payment, paid_on=datetime.date.today(), voucher_number="记-001")
    paid = Settlement.objects.get(pk=confirmed.pk)
    assert paid.status == "paid"
    refused(lambda: Settlement.objects.filter(pk=paid.pk).update(status="confirmed"))


@postgresql_only
@pytest.mark.django_db
def test_a_draft_month_is_not_frozen(settle, billed, bureau_user):
    billed(level="full")
    draft = settle(2026, 10, actor=bureau_user)
    assert SettlementLine.objects.filter(settlement=draft).update(amount=0) == 1


def copy_of(row, **changes):
    """A new row like `row` (same values, no id), not yet saved."""
    row = type(row).objects.get(pk=row.pk)
    row.pk = row.id = None
    for field, value in changes.items():
        setattr(row, field, value)
    return row


@pytest.fixture
def draft_after(confirmed, settle, billed, bureau_user):
    """The month after the confirmed one, computed, still a draft."""
    return settle(2026, 11, actor=bureau_user)


@pytest.mark.django_db
def test_no_new_line_total_deduction_or_payment_in_a_confirmed_month(confirmed):
    line = SettlementLine.objects.filter(settlement=confirmed).first()
    total = ProviderSettlement.objects.filter(settlement=confirmed).first()
    payment = Payment.objects.filter(settlement=confirmed).first()

    # (other recipients: a copy of the same recipient's line would meet the unique constraint first)
    refused(lambda: copy_of(line, recipient=RecipientFactory(), amount=1).save())
    refused(
        lambda: SettlementLine.objects.bulk_create(
            [copy_of(line, recipient=RecipientFactory()), copy_of(line, recipient=RecipientFactory())]
        )
    )
    refused(lambda: copy_of(total, provider=ProviderFactory()).save())
    refused(lambda: copy_of(payment, amount=1).save())

    assert SettlementLine.objects.filter(settlement=confirmed).count() == 2
    assert Payment.objects.filter(settlement=confirmed).count() == 1


@pytest.mark.django_db
def test_no_deduction_applied_to_a_confirmed_month_after_it_was_confirmed(confirmed):
    from tests.billing.factories import DeductionFactory

    total = ProviderSettlement.objects.filter(settlement=confirmed).first()
    deduction = DeductionFactory(provider=total.provider, contract=total.provider.contracts.first(), amount=10)

    refused(
        lambda: DeductionApplication.objects.create(
            settlement=confirmed,
            provider_settlement=total,
            deduction=deduction,
            amount_due=10,
            amount_applied=10,
            amount_carried=0,
        )
    )


@pytest.mark.django_db
def test_no_row_of_a_draft_month_moves_into_a_confirmed_one(confirmed, draft_after):
    # given next month's draft, computed after the confirmed one
    assert draft_after.status == "draft" and confirmed.status == "confirmed"
    draft_lines = SettlementLine.objects.filter(settlement=draft_after)
    draft_payments = Payment.objects.filter(settlement=draft_after)
    confirmed_total = ProviderSettlement.objects.filter(settlement=confirmed).first()

    # then none of its rows can be moved into the confirmed month, by its month or by its provider total
    refused(lambda: draft_lines.update(settlement=confirmed))
    refused(lambda: ProviderSettlement.objects.filter(settlement=draft_after).update(settlement=confirmed))
    refused(lambda: draft_payments.update(settlement=confirmed))
    refused(lambda: draft_payments.update(provider_settlement=confirmed_total))

    def raw_sql():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_settlementline SET settlement_id = %s WHERE settlement_id = %s",
                [confirmed.pk, draft_after.pk],
            )

    refused(raw_sql)
    assert SettlementLine.objects.filter(settlement=confirmed).count() == 2
    # while the draft itself stays open to its own computation
    assert draft_lines.update(amount=0) == 2


@pytest.mark.django_db
def test_the_new_guards_leave_alone_a_row_that_stays_in_its_month(confirmed):
    # Setting a row's month to the month it is in is no move: on SQLite it goes through; on PostgreSQL only the
    # row guard of 0003 has a say (it decides which fields of a frozen month's payment may be recorded).
    payments = Payment.objects.filter(settlement=confirmed)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="不能修改或删除"), transaction.atomic():
            payments.update(settlement=confirmed)
    else:
        assert payments.update(settlement=confirmed) == 1


def _no_pending_checks(cursor):
    # The test's own transaction still holds deferred foreign-key checks of the rows it made, and PostgreSQL
    # will not TRUNCATE a table with pending trigger events: run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@postgresql_only
@pytest.mark.django_db
def test_the_tables_of_a_confirmed_month_cannot_be_truncated(confirmed):
    def truncate(*tables):
        def run():
            with connection.cursor() as cursor:
                _no_pending_checks(cursor)
                cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")

        return run

    for table in ("billing_settlementline", "billing_providersettlement", "billing_deductionapplication"):
        refused(truncate(table))
    refused(truncate("billing_payment"))
    refused(truncate("billing_settlement"))
    refused(
        truncate(
            "billing_payment",
            "billing_deductionapplication",
            "billing_providersettlement",
            "billing_settlementline",
            "billing_settlement",
        )
    )
    assert SettlementLine.objects.filter(settlement=confirmed).count() == 2


@postgresql_only
@pytest.mark.django_db
def test_a_deliberate_wipe_of_the_whole_database_may_truncate(confirmed):
    from billing.frozen import truncating_frozen_months

    with truncating_frozen_months(connection), connection.cursor() as cursor:
        _no_pending_checks(cursor)
        cursor.execute("TRUNCATE billing_settlement, billing_settlementline CASCADE")

    assert not Settlement.objects.exists()
    assert not SettlementLine.objects.exists()


@postgresql_only
@pytest.mark.django_db
def test_without_a_frozen_month_the_tables_may_be_truncated(settle, billed, bureau_user):
    billed(level="full")
    settle(2026, 10, actor=bureau_user)
    with connection.cursor() as cursor:
        _no_pending_checks(cursor)
        # the line table keeps no foreign keys (billing.models.SettlementLine): a wipe names it, CASCADE does not
        # reach it
        cursor.execute("TRUNCATE billing_settlement, billing_settlementline CASCADE")
    assert not SettlementLine.objects.exists()
