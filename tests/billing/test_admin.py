"""The bureau's admin: read-only settlement lists; confirm and recompute as admin actions."""

import datetime

import pytest
from django.urls import reverse

from billing.actions import settlement_compute
from billing.models import Settlement, SettlementStatus

from .conftest import waive_no_visit_proposals

pytestmark = pytest.mark.django_db


def test_admin_lists_open_for_bureau(client_as, bureau_user, two_provider_month):
    client = client_as(bureau_user)
    for model in ("settlement", "providersettlement", "settlementline", "deductionapplication", "payment"):
        assert client.get(reverse(f"admin:billing_{model}_changelist")).status_code == 200
    settlement, _, _ = two_provider_month
    assert client.get(reverse("admin:billing_settlement_change", args=[settlement.pk])).status_code == 200


def test_the_payments_list_shows_accounts_masked_and_decrypts_only_those(
    client_as, bureau_user, two_provider_month, monkeypatch
):
    from billing.models import Payment
    from shenxian_care import crypto

    payments = list(Payment.objects.order_by("pk"))
    decrypted = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: decrypted.append(token) or real(token))

    page = client_as(bureau_user).get(reverse("admin:billing_payment_changelist")).content.decode()

    accounts = [p.account_number for p in payments if p.account_number]
    assert accounts and not any(account in page for account in accounts)
    assert len(decrypted) == len(accounts)  # each row's own account, to show it masked; never the provider's


def test_admin_confirm_action_freezes_the_month(client_as, bureau_user, billed):
    billed()
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    waive_no_visit_proposals(bureau_user, settlement)

    response = client_as(bureau_user).post(
        reverse("admin:billing_settlement_changelist"),
        {"action": "confirm", "_selected_action": [settlement.pk]},
        follow=True,
    )

    assert response.status_code == 200
    settlement.refresh_from_db()
    assert (settlement.status, settlement.confirmed_by) == (SettlementStatus.CONFIRMED, bureau_user)


def test_admin_recompute_of_a_confirmed_month_is_refused(client_as, bureau_user, two_provider_month):
    settlement, _, _ = two_provider_month

    response = client_as(bureau_user).post(
        reverse("admin:billing_settlement_changelist"),
        {"action": "recompute", "_selected_action": [settlement.pk]},
        follow=True,
    )

    assert "已确认" in response.content.decode()
    assert Settlement.objects.get(pk=settlement.pk).status == SettlementStatus.CONFIRMED


def test_admin_closed_to_finance(client_as, finance_user, two_provider_month):
    assert client_as(finance_user).get(reverse("admin:billing_settlement_changelist")).status_code == 302


def test_admin_recompute_action_runs_the_draft_again(
    client_as, bureau_user, billed, django_capture_on_commit_callbacks
):
    billed()
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    billed(level="full")

    with django_capture_on_commit_callbacks(execute=True):
        client_as(bureau_user).post(
            reverse("admin:billing_settlement_changelist"),
            {"action": "recompute", "_selected_action": [settlement.pk]},
        )

    settlement.refresh_from_db()
    assert (settlement.status, str(settlement.gross)) == (SettlementStatus.DRAFT, "815.00")


def test_a_payment_page_shows_the_account_masked(client_as, bureau_user, two_provider_month):
    from billing.models import Payment
    from shenxian_care.privacy import mask_bank_account

    payment = next(p for p in Payment.objects.order_by("pk") if p.account_number)

    page = client_as(bureau_user).get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()

    assert payment.account_number not in page
    assert mask_bank_account(payment.account_number) in page
