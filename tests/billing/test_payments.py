"""Payments finance can stand behind: no month is confirmed while a payment would go to a missing or invalid
account; the finance bureau (not the civil-affairs bureau) records each payment with its date and voucher number
(凭证号), in parts if need be; the month is 已支付 when every payment is paid in full; the 拨付审批表 prints each
provider's amount in figures and in capitals."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from billing import exports
from billing.actions import payment_record
from billing.models import Payment, PaymentRecord, SettlementStatus
from contracts.models import PayeeMode
from shenxian_care.exceptions import ApplicationError
from tests.factories import CaregiverFactory, ContractFactory

from .conftest import confirm_month

D = datetime.date
TODAY = datetime.date.today()
pytestmark = pytest.mark.django_db


def test_a_month_with_a_provider_without_an_account_cannot_be_confirmed(settle, billed, provider, bureau_user):
    billed()
    type(provider).objects.filter(pk=provider.pk).update(bank_account_number="")
    march = settle(2024, 3)

    with pytest.raises(ApplicationError, match="1个收款账户缺失或无效") as caught:
        confirm_month(actor=bureau_user, settlement=march)

    assert provider.name in caught.value.message and "未登记银行账号" in caught.value.message
    march.refresh_from_db()
    assert march.status == SettlementStatus.DRAFT


def test_a_caregiver_paid_directly_needs_a_valid_account_too(settle, billed, provider, bureau_user):
    ContractFactory(provider=provider, payee_mode=PayeeMode.CAREGIVERS)
    good, bad = CaregiverFactory(provider=provider), CaregiverFactory(provider=provider, bank_account_number="62-17")
    billed(caregiver=good)
    billed(caregiver=bad)
    march = settle(2024, 3)

    with pytest.raises(ApplicationError, match="格式不正确") as caught:
        confirm_month(actor=bureau_user, settlement=march)

    assert caught.value.extra["accounts"] == [f"{bad.name}（{provider.name}，银行账号格式不正确（应为8至32位数字））"]


@pytest.fixture
def confirmed_march(settle, billed, bureau_user):
    """March 2024, one 失能 recipient: one payment of 626.00 to the provider's account; confirmed."""
    billed(level="full")
    return confirm_month(actor=bureau_user, settlement=settle(2024, 3))


def test_finance_records_a_payment_in_two_parts_and_the_month_is_then_paid(confirmed_march, finance_user):
    payment = Payment.objects.get(settlement=confirmed_march)
    assert payment.amount == Decimal("626.00")

    payment_record(
        actor=finance_user, payment=payment, paid_on=TODAY, voucher_number="记-0301", amount=Decimal("600.00")
    )
    confirmed_march.refresh_from_db()
    assert confirmed_march.status == SettlementStatus.CONFIRMED  # 26.00 still to pay

    with pytest.raises(ApplicationError, match="0.01至26.00"):
        payment_record(
            actor=finance_user, payment=payment, paid_on=TODAY, voucher_number="记-0302", amount=Decimal("26.01")
        )
    payment_record(actor=finance_user, payment=payment, paid_on=TODAY, voucher_number="记-0302")  # the rest

    confirmed_march.refresh_from_db()
    assert confirmed_march.status == SettlementStatus.PAID and confirmed_march.paid_by == finance_user
    assert [r.amount for r in PaymentRecord.objects.order_by("pk")] == [Decimal("600.00"), Decimal("26.00")]
    with pytest.raises(ApplicationError, match="已付清|尚未付清"):
        payment_record(actor=finance_user, payment=payment, paid_on=TODAY, voucher_number="记-0303")


@pytest.mark.parametrize(
    ("paid_on", "voucher", "message"),
    [
        (TODAY + datetime.timedelta(days=1), "记-1", "不能晚于今天"),
        (D(2024, 1, 1), "记-1", "不能早于结算确认日期"),
        (TODAY, "  ", "凭证号"),
    ],
)
def test_a_payment_needs_a_real_date_and_a_voucher(confirmed_march, finance_user, paid_on, voucher, message):
    payment = Payment.objects.get(settlement=confirmed_march)
    with pytest.raises(ApplicationError, match=message):
        payment_record(actor=finance_user, payment=payment, paid_on=paid_on, voucher_number=voucher)
    assert not PaymentRecord.objects.exists()


def test_only_the_finance_bureau_records_payments(confirmed_march, bureau_user, provider_user):
    payment = Payment.objects.get(settlement=confirmed_march)
    for actor in (bureau_user, provider_user):
        with pytest.raises(PermissionDenied):
            payment_record(actor=actor, payment=payment, paid_on=TODAY, voucher_number="记-1")


def test_a_draft_month_takes_no_payment(settle, billed, finance_user):
    billed()
    payment = Payment.objects.get(settlement=settle(2024, 3))
    with pytest.raises(ApplicationError, match="只有已确认"):
        payment_record(actor=finance_user, payment=payment, paid_on=TODAY, voucher_number="记-1")


def test_finance_records_through_the_portal_and_the_api(confirmed_march, finance_user, client_as, api_as):
    payment = Payment.objects.get(settlement=confirmed_march)
    page = reverse("billing:settlement_payments", args=[confirmed_march.pk])

    response = client_as(finance_user).post(
        page, {"payment": payment.pk, "paid_on": TODAY.isoformat(), "voucher_number": "记-77", "amount": "100.00"}
    )
    assert response.status_code == 302
    assert client_as(finance_user).get(page).content.decode().count("凭证记-77") == 1

    api = api_as(finance_user)
    answer = api.post(
        f"/api/v1/settlements/payments/{payment.pk}/record/", {"paid_on": TODAY, "voucher_number": "记-78"}
    )
    assert answer.status_code == 201 and answer.json()["amount"] == "526.00"
    listed = api.get("/api/v1/settlements/payments/", {"settlement": confirmed_march.pk}).json()["results"]
    assert [(p["amount"], p["paid"]) for p in listed] == [("626.00", "626.00")]
    confirmed_march.refresh_from_db()
    assert confirmed_march.status == SettlementStatus.PAID


def test_the_payments_api_masks_accounts_and_applies_its_filters(two_provider_month, finance_user, api_as):
    settlement, _, _ = two_provider_month
    api = api_as(finance_user)
    rows = api.get("/api/v1/settlements/payments/", {"settlement": settlement.pk}).json()["results"]
    assert rows and all("*" in row["account_number"] for row in rows)
    assert api.get("/api/v1/settlements/payments/", {"settlement": settlement.pk + 999}).json()["results"] == []
    assert api.get("/api/v1/settlements/payments/", {"settlement": "abc"}).status_code == 400


def test_the_approval_sheet_prints_each_providers_amount_in_capitals(two_provider_month, finance_user):
    """燕塔街道's provider: 189.00 + 626.00 = 815.00 → 捌佰壹拾伍元整; the other: 313.00 - 10.00 = 303.00 →
    叁佰零叁元整; together 1,118.00 → 壹仟壹佰壹拾捌元整."""
    settlement, _, _ = two_provider_month
    out = io.BytesIO()
    exports.build_workbook(actor=finance_user, settlement=settlement, sheets=("approval",)).save(out)

    cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row if c is not None]

    assert "捌佰壹拾伍元整" in cells and "叁佰零叁元整" in cells and "壹仟壹佰壹拾捌元整" in cells
    assert any("县民政局经办人" in str(c) for c in cells) and any("县财政局经办人" in str(c) for c in cells)
