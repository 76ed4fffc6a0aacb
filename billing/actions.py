"""Every write of billing: compute a month's draft, confirm it, record it paid.

The computation is one transaction under a per-month lock: it replaces a draft's lines, provider
totals, deduction applications and payments with a fresh, deterministic result. Confirmed months are
never touched again; corrections to them become adjustment lines of the month being computed.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from contracts.selectors import rate_table_on
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.money import quantize_fen
from shenxian_care.months import month_end, month_has_ended, previous_month
from shenxian_care.permissions import ensure_role
from shenxian_care.progress import run_died
from shenxian_care.queue import enqueue
from shenxian_care.validators import bank_account_problem
from supervision.models import Deduction, DeductionSource

from . import persistence
from .engine import clear_draft, compute
from .models import (
    DeductionProposal,
    Payment,
    PaymentRecord,
    ProposalStatus,
    RunState,
    Settlement,
    SettlementStatus,
)

BUSY = "正在计算"


def _ensure_actor(actor):
    # actor None = the system (beat task, management command).
    if actor is not None:
        ensure_role(actor, Role.BUREAU)


def settlement_check_computable(*, actor, month: datetime.date, today: datetime.date | None = None):
    """Raise ApplicationError if `month` cannot be computed now (checked before queueing the task)."""
    _ensure_actor(actor)
    month = month.replace(day=1)
    try:
        rate_table_on(month)
    except LookupError:
        raise ApplicationError(f"{month:%Y年%m月}没有生效的服务费标准。", field="month") from None
    _check_order(month, today or timezone.localdate())
    existing = Settlement.objects.filter(month=month).first()
    if existing is not None and existing.is_frozen:
        raise ApplicationError(f"{month:%Y年%m月}结算已确认，不能重新计算；更正将作为调整计入下一个未确认月份。")


def _check_order(month, today):
    """Months are settled in order, each only after it has ended: the month before must be confirmed, unless
    no month before this one was ever settled (the first month with data)."""
    if not month_has_ended(month, today):
        raise ApplicationError(f"{month:%Y年%m月}尚未结束，月末之后才能结算。", field="month")
    later = Settlement.objects.filter(month__gt=month).order_by("month").first()
    if later is not None:
        hint = "" if later.is_frozen else "如需先结算本月，请先作废该草稿。"
        raise ApplicationError(f"已有{later.month:%Y年%m月}的结算，不能再计算更早的月份。{hint}", field="month")
    if Settlement.objects.filter(month__lt=month).exists():
        before = previous_month(month)
        settled = Settlement.objects.filter(month=before).first()
        if settled is None or not settled.is_frozen:
            raise ApplicationError(f"请先结算并确认{before:%Y年%m月}，再结算{month:%Y年%m月}。", field="month")


def _settlement_header(month: datetime.date, today) -> Settlement:
    """The month's row, created (committed) if new so its progress can be watched; order rules checked."""
    _check_order(month, today)
    settlement, _ = Settlement.objects.get_or_create(month=month)
    if settlement.is_frozen:
        raise ApplicationError(f"{month:%Y年%m月}结算已确认，不能重新计算；更正将作为调整计入下一个未确认月份。")
    return settlement


def settlement_compute(
    *, actor, month: datetime.date, stats: dict | None = None, today: datetime.date | None = None
) -> Settlement:
    """Compute (or recompute) the draft settlement of `month`. Deterministic: same data, same result.

    A request to recompute that arrives while this runs (`rerun_requested`) is honoured by one more run after
    this one commits, so a change made meanwhile is never lost."""
    _ensure_actor(actor)
    month = month.replace(day=1)
    try:
        table = rate_table_on(month)
    except LookupError:
        raise ApplicationError(f"{month:%Y年%m月}没有生效的服务费标准。", field="month") from None
    settlement = _settlement_header(month, today or timezone.localdate())
    progress = persistence.Progress(settlement)
    try:
        with transaction.atomic():
            persistence.lock_month(month)
            # The month lock above serialises; the row itself stays unlocked until the final save so
            # the progress written from the side connection is not blocked.
            settlement = Settlement.objects.get(pk=settlement.pk)
            if settlement.is_frozen:
                raise ApplicationError(f"{month:%Y年%m月}结算已确认，不能重新计算。")
            compute(settlement, table, actor, progress, stats if stats is not None else {})
    except ApplicationError as exc:
        if BUSY in exc.message:
            _request_rerun(settlement)
        else:
            _record_failure(settlement, exc.message)
        raise
    except Exception as exc:
        _record_failure(settlement, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        progress.close()
    if Settlement.objects.filter(pk=settlement.pk, rerun_requested=True).exists():
        enqueue("billing.tasks.settlement_compute_task", month.isoformat(), actor.pk if actor else None)
    return settlement


def _request_rerun(settlement):
    Settlement.objects.filter(pk=settlement.pk, status=SettlementStatus.DRAFT).update(rerun_requested=True)


def _record_failure(settlement, message):
    Settlement.objects.filter(pk=settlement.pk).update(
        run_state=RunState.FAILED, run_error=message[:300], run_finished_at=timezone.now()
    )


def settlement_compute_request(*, actor, month: datetime.date) -> bool:
    """Check the month can be computed, then compute it in the background (the page shows its progress).
    Through the outbox: if Redis is down the request waits there and the portal says so.

    Returns True if a computation of the month is running now: it is then followed by one more (the queued
    task finds the month busy and asks the running one to run again), so nothing changed meanwhile is lost.
    A run whose worker died (it stopped beating: progress.run_died) is not running: asking again starts anew."""
    month = month.replace(day=1)
    settlement_check_computable(actor=actor, month=month)
    running = Settlement.objects.filter(month=month, run_state=RunState.RUNNING).first()
    if running is not None and run_died(running):
        running = None
    if running is not None:
        _request_rerun(running)
    enqueue("billing.tasks.settlement_compute_task", month.isoformat(), actor.pk)
    return running is not None


@transaction.atomic
def settlement_discard(*, actor, settlement: Settlement):
    """Throw a draft away (e.g. one computed out of order): its lines, totals and payments go with it. Not while
    it is computing; a run whose worker died (progress.run_died) is not computing."""
    _ensure_actor(actor)
    persistence.lock_month(settlement.month)
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.status != SettlementStatus.DRAFT:
        raise ApplicationError("只有草稿状态的结算可以作废。")
    if settlement.run_state == RunState.RUNNING and not run_died(settlement):
        raise ApplicationError(f"{settlement.month:%Y年%m月}结算{BUSY}，请完成后再作废。")
    clear_draft(settlement)
    settlement.delete()


def settlement_confirm(*, actor, settlement: Settlement) -> Settlement:
    """Freeze a computed draft: who and when. Nothing of it changes afterwards."""
    _ensure_actor(actor)
    with transaction.atomic():
        persistence.lock_month(settlement.month)
        settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
        if settlement.status != SettlementStatus.DRAFT:
            raise ApplicationError("只有草稿状态的结算可以确认。")
        if settlement.run_state != RunState.DONE:
            raise ApplicationError("结算尚未计算完成，不能确认。")
        if settlement.rerun_requested:
            raise ApplicationError("计算期间有新的重新计算请求，请等待按最新数据计算完成后再确认。")
        unpayable = [
            f"{payment.payee_name}（{payment.provider.name}，{problem}）"
            for payment in settlement.payments.select_related("provider").order_by("provider__name", "payee_name")
            if (problem := bank_account_problem(payment.account_number))
        ]
        if unpayable:
            raise ApplicationError(
                f"以下{len(unpayable)}个收款账户缺失或无效，补正账户并重新计算后才能确认：" + "；".join(unpayable),
                extra={"accounts": unpayable},
            )
        undecided = DeductionProposal.objects.filter(settlement=settlement).undecided().count()
        if undecided:
            raise ApplicationError(f"还有{undecided}条扣款建议待决定（确认扣款或免予扣款并说明理由），决定后才能确认。")
        settlement.status = SettlementStatus.CONFIRMED
        settlement.confirmed_by = actor
        settlement.confirmed_at = timezone.now()
        settlement.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    return settlement


@transaction.atomic
def payment_record(
    *, actor, payment: Payment, paid_on: datetime.date, voucher_number: str, amount: Decimal | None = None
) -> PaymentRecord:
    """The finance bureau records money paid against one payment of a confirmed month: date and voucher number
    (凭证号), in full (no amount) or in part. When every payment of the month is paid in full, the month is 已支付."""
    ensure_role(actor, Role.FINANCE)
    payment = Payment.objects.select_for_update().select_related("settlement").get(pk=payment.pk)
    settlement = Settlement.objects.select_for_update().get(pk=payment.settlement_id)
    if settlement.status != SettlementStatus.CONFIRMED:
        raise ApplicationError("只有已确认、尚未付清的结算可以登记支付。")
    voucher_number = (voucher_number or "").strip()
    if not voucher_number:
        raise ApplicationError("请填写凭证号。", field="voucher_number")
    if paid_on > timezone.localdate():
        raise ApplicationError("支付日期不能晚于今天。", field="paid_on")
    if paid_on < timezone.localtime(settlement.confirmed_at).date():
        raise ApplicationError("支付日期不能早于结算确认日期。", field="paid_on")
    remaining = payment.amount - payment.paid
    if remaining <= 0:
        raise ApplicationError(f"{payment.payee_name}的款项已付清。")
    amount = remaining if amount is None else quantize_fen(amount)
    if amount <= 0 or amount > remaining:
        raise ApplicationError(f"支付金额应在0.01至{remaining}元之间（尚未支付{remaining}元）。", field="amount")
    if payment.records.filter(voucher_number=voucher_number).exists():
        raise ApplicationError("该凭证号已为这笔款项登记过。", field="voucher_number")
    record = PaymentRecord.objects.create(
        payment=payment, paid_on=paid_on, voucher_number=voucher_number, amount=amount, recorded_by=actor
    )
    if not unpaid_payments(settlement):
        settlement.status = SettlementStatus.PAID
        settlement.paid_by = actor
        settlement.paid_at = timezone.now()
        settlement.save(update_fields=["status", "paid_by", "paid_at"])
    return record


def unpaid_payments(settlement) -> list:
    """The month's payments not yet paid in full."""
    unpaid = []
    for payment in Payment.objects.filter(settlement=settlement).prefetch_related("records").order_by("pk"):
        if payment.paid < payment.amount:
            unpaid.append(payment)
    return unpaid


@transaction.atomic
def proposals_decide(*, actor, settlement: Settlement, proposal_ids, accept: bool, reason: str = ""):
    """The bureau decides proposed deductions of a draft month, one or several at once: accepted ones become
    verified deductions of the month (applied when it is computed again, which is queued at once); waived ones
    need a reason. Returns the number decided."""
    _ensure_actor(actor)
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.status != SettlementStatus.DRAFT:
        raise ApplicationError("只有草稿状态的结算可以决定扣款建议。")
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ApplicationError("免予扣款须填写理由。", field="reason")
    proposals = list(
        DeductionProposal.objects.select_for_update(of=("self",))
        .filter(settlement=settlement, pk__in=list(proposal_ids), status=ProposalStatus.PROPOSED)
        .select_related("rule", "provider")
    )
    if not proposals:
        raise ApplicationError("请选择待决定的扣款建议。")
    now = timezone.now()
    last_day = month_end(settlement.month)
    for proposal in proposals:
        if accept:
            proposal.deduction = Deduction.objects.create(
                provider_id=proposal.provider_id,
                contract_id=(proposal.rule.contract_id if proposal.rule else _contract_of(settlement, proposal)),
                rule=proposal.rule,
                recipient_id=proposal.recipient_id,
                source=DeductionSource.EVIDENCE,
                amount=proposal.amount,
                reason=f"{settlement.month:%Y年%m月}{proposal.get_kind_display()}"[:300],
                verified_on=last_day,
                created_by=actor,
            )
        proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.WAIVED
        proposal.decision_reason = reason[:300]
        proposal.decided_by = actor
        proposal.decided_at = now
        proposal.save(update_fields=["status", "decision_reason", "decided_by", "decided_at", "deduction"])
    if accept:
        transaction.on_commit(lambda: settlement_compute_request(actor=actor, month=settlement.month))
    return len(proposals)


def _contract_of(settlement, proposal):
    row = settlement.provider_totals.filter(provider_id=proposal.provider_id).values_list("contract_id", flat=True)
    return row.first()
