"""The takeover plan (接管预案): hand every recipient of a terminated provider to another, with no day uncovered.

`takeover_execute` does it at once, in one transaction. `takeover_request` records the request and queues
`takeover_run` on a worker after commit (a large provider's handover takes longer than a web request may);
the run is the same one transaction, and a failure is recorded on the takeover with every line that failed."""

import datetime

from django.db import OperationalError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from contracts.actions import agreement_create, agreement_sign_as_town, agreement_terminate, contract_terminate
from contracts.models import Agreement, AgreementStatus, Caregiver, ContractStatus, PurchaseContract
from contracts.selectors import contract_covering
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.progress import SideProgress, run_died
from shenxian_care.queue import enqueue

from ..models import HalfYearReview, ReviewDecision, ReviewStatus, Takeover, TakeoverLine, TakeoverStatus

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's answer to FOR UPDATE NOWAIT on a row another transaction holds


def _pick_caregiver(provider, town, cache):
    """The takeover provider's active caregiver for `town`: one living there if any, else the least loaded."""
    if town.pk not in cache:
        cache[town.pk] = (
            Caregiver.objects.filter(provider=provider, is_active=True)
            .annotate(
                here=Count("pk", filter=Q(home_town=town)),
                load=Count("agreements", filter=Q(agreements__status=AgreementStatus.SIGNED)),
            )
            .order_by("-here", "load", "pk")
            .first()
        )
    return cache[town.pk]


def _active_agreements(provider, takeover_date, *, lock):
    qs = Agreement.objects.filter(provider=provider).running_from(takeover_date)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs.select_related("recipient", "town", "village").order_by("town__sort_order", "recipient__name", "pk"))


def _lock_review(review, *, wait=True):
    """The review, locked. `wait=False` (the bureau asking): if a run holds it (a takeover being handled), refuse at
    once rather than hold the page until the whole handover is done."""
    reviews = HalfYearReview.objects.select_for_update(of=("self",), nowait=not wait).select_related("provider")
    try:
        with transaction.atomic():
            review = reviews.get(pk=review.pk)
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        raise ApplicationError("该评估的接管正在办理，请稍后刷新查看结果。") from None
    if review.status != ReviewStatus.DECIDED or review.decision != ReviewDecision.TERMINATE:
        raise ApplicationError("只有决定终止合同的半年评估才能启动接管。")
    return review


def _precheck(review, new_provider, takeover_date, caregivers, agreements):
    """What can be known before moving anything: raises ApplicationError listing every problem."""
    if new_provider.pk == review.provider_id:
        raise ApplicationError("接管机构不能是被终止的机构。", field="new_provider")
    if takeover_date < timezone.localdate():
        raise ApplicationError("接管日期不能早于今天。", field="takeover_date")
    errors = []
    towns = {a.town_id: a.town for a in agreements}
    for town in towns.values():
        if contract_covering(provider=new_provider, town=town, day=takeover_date) is None:
            errors.append(f"{new_provider.name}在{takeover_date}没有覆盖{town.name}的有效合同。")
    for town_id, caregiver in caregivers.items():
        if caregiver.provider_id != new_provider.pk:
            errors.append(f"{towns.get(town_id, town_id)}指定的照料护理人{caregiver.name}不属于接管机构。")
    if errors:
        raise ApplicationError("接管未执行：" + "；".join(errors), extra={"errors": errors})


def _handover(*, actor, review, takeover, agreements, caregivers):
    """Move every agreement; raise (undoing everything in the caller's transaction) if any cannot move."""
    new_provider, takeover_date = takeover.new_provider, takeover.takeover_date
    last_day = takeover_date - datetime.timedelta(days=1)
    today = timezone.localdate()
    picked, lines, report, errors = {}, [], [], []
    reason = f"服务机构合同终止，由{new_provider.name}接管（{review.half}半年评估）"[:200]
    for agreement in agreements:
        recipient = agreement.recipient
        line = {"recipient": recipient.name, "town": agreement.town.name, "old_agreement": agreement.number}
        caregiver = caregivers.get(agreement.town_id) or _pick_caregiver(new_provider, agreement.town, picked)
        try:
            with transaction.atomic():
                if caregiver is None:
                    raise ApplicationError(f"接管机构没有可安排到{agreement.town.name}的在岗照料护理人。")
                if agreement.start_date > last_day:
                    raise ApplicationError(f"原协议{agreement.start_date}才开始，晚于接管日期前一日，无法移交。")
                agreement_terminate(actor=actor, agreement=agreement, last_day=last_day, reason=reason)
                if not recipient.in_support_on(takeover_date):
                    line.update(result="原协议已终止；接管日不在供养期内，不再签订新协议")
                    report.append(line)
                    continue
                new = agreement_create(
                    actor=actor,
                    provider=new_provider,
                    recipient=recipient,
                    caregiver=caregiver,
                    village=agreement.village,
                    start_date=takeover_date,
                    end_date=agreement.end_date,
                    village_signatory=agreement.village_signatory,
                    replaces=agreement,
                )
                # Under the takeover plan the bureau records the four parties' signatures on the day it acts.
                new = agreement_sign_as_town(
                    actor=actor,
                    agreement=new,
                    signed_on=today,
                    village_signatory=agreement.village_signatory or f"{agreement.village.name}（接管预案）",
                )
        except ApplicationError as exc:
            line.update(result="失败", error=exc.message)
            report.append(line)
            errors.append(f"{agreement.town.name} {recipient.name}（{agreement.number}）：{exc.message}")
            continue
        line.update(result="已移交", new_agreement=new.number, caregiver=caregiver.name)
        report.append(line)
        lines.append(
            TakeoverLine(
                takeover=takeover,
                recipient=recipient,
                town=agreement.town,
                old_agreement=agreement,
                new_agreement=new,
                caregiver=caregiver,
            )
        )
    if errors:
        raise ApplicationError(
            f"接管未执行：{len(errors)}份协议无法移交，所有协议均未变动。", extra={"errors": errors, "lines": report}
        )
    TakeoverLine.objects.bulk_create(lines)
    for contract in PurchaseContract.objects.filter(provider=review.provider, status=ContractStatus.ACTIVE):
        contract_terminate(
            actor=actor, contract=contract, terminated_on=last_day, reason=f"{review.half}半年评估决定终止合同"
        )
    takeover.status = TakeoverStatus.DONE
    takeover.report = report
    takeover.errors = []
    takeover.finished_at = timezone.now()
    takeover.save()
    return takeover


def _reusable(review):
    """The review's earlier takeover if it failed (it may be tried again), or if its run died (a run started, then
    stopped beating: its worker was killed and its transaction rolled back); refuse one done, waiting or running.
    Runs take turns on the review's lock and the second finds the first done, so asking again never runs it twice."""
    existing = Takeover.objects.select_for_update().filter(review=review).first()
    if existing is None or existing.status == TakeoverStatus.FAILED or _run_died(existing):
        return existing
    raise ApplicationError("该评估的接管已办理或正在办理。")


def _run_died(takeover):
    return takeover.status == TakeoverStatus.PENDING and run_died(takeover)


def _takeover_row(*, actor, review, existing, new_provider, takeover_date, caregivers, status):
    row = existing or Takeover(review=review, old_provider=review.provider)
    row.new_provider = new_provider
    row.takeover_date = takeover_date
    row.executed_by = actor
    row.status = status
    row.caregiver_choices = {str(town_id): c.pk for town_id, c in caregivers.items()}
    row.report, row.errors, row.finished_at = [], [], None
    row.save()
    return row


@transaction.atomic
def takeover_execute(*, actor, review, new_provider, takeover_date: datetime.date, caregivers: dict | None = None):
    """Hand every recipient of the terminated provider to `new_provider`, now, in one transaction.

    Each active agreement ends the day before `takeover_date`; a new agreement with the takeover provider
    (same recipient, town, village; the level is the recipient's approved level) is signed from that day,
    with the caregiver given for the town in `caregivers` ({town_id: Caregiver}) or picked from the takeover
    provider's staff. If any agreement cannot move, nothing moves, and the error lists every line that failed."""
    caregivers = caregivers or {}
    review, takeover, agreements = _pending_takeover(
        actor, review, new_provider, takeover_date, caregivers, lock_agreements=True
    )
    return _handover(actor=actor, review=review, takeover=takeover, agreements=agreements, caregivers=caregivers)


@transaction.atomic
def takeover_request(*, actor, review, new_provider, takeover_date: datetime.date, caregivers: dict | None = None):
    """Check what can be checked now, record the takeover as pending, and run it on a worker after commit."""
    _review, takeover, _agreements = _pending_takeover(
        actor, review, new_provider, takeover_date, caregivers or {}, lock_agreements=False
    )
    enqueue("supervision.tasks.takeover_run_task", takeover.pk)
    return takeover


def _pending_takeover(actor, review, new_provider, takeover_date, caregivers, *, lock_agreements):
    """What both ways of starting a takeover check first (the bureau's role, the review, the takeover provider
    and date, every agreement that must move), then the takeover recorded as pending.
    Returns (the locked review, the takeover, the agreements to move)."""
    ensure_role(actor, Role.BUREAU)
    review = _lock_review(review, wait=False)
    existing = _reusable(review)
    agreements = _active_agreements(review.provider, takeover_date, lock=lock_agreements)
    _precheck(review, new_provider, takeover_date, caregivers, agreements)
    takeover = _takeover_row(
        actor=actor, review=review, existing=existing, new_provider=new_provider, takeover_date=takeover_date,
        caregivers=caregivers, status=TakeoverStatus.PENDING,
    )  # fmt: skip
    return review, takeover, agreements


def takeover_run(*, takeover_id: int):
    """System action (task): perform a pending takeover in one transaction; on failure record why, with the
    report line by line, and change nothing else. Running it again for a finished takeover does nothing.
    The run beats while it works (shenxian_care.progress): one whose worker is killed is seen dead and may be
    asked for again."""
    beat = SideProgress(Takeover(pk=takeover_id))
    try:
        return _run(takeover_id)
    finally:
        beat.close()


def _run(takeover_id):
    try:
        with transaction.atomic():
            takeover = (
                Takeover.objects.select_for_update(of=("self",))
                .select_related("new_provider", "executed_by")
                .get(pk=takeover_id)
            )
            if takeover.status != TakeoverStatus.PENDING:
                return takeover
            review = _lock_review(takeover.review)
            caregivers = {
                int(town_id): Caregiver.objects.get(pk=caregiver_id)
                for town_id, caregiver_id in takeover.caregiver_choices.items()
            }
            agreements = _active_agreements(review.provider, takeover.takeover_date, lock=True)
            _precheck(review, takeover.new_provider, takeover.takeover_date, caregivers, agreements)
            return _handover(
                actor=takeover.executed_by, review=review, takeover=takeover, agreements=agreements,
                caregivers=caregivers,
            )  # fmt: skip
    except ApplicationError as exc:
        Takeover.objects.filter(pk=takeover_id, status=TakeoverStatus.PENDING).update(
            status=TakeoverStatus.FAILED,
            errors=exc.extra.get("errors") or [exc.message],
            report=exc.extra.get("lines", []),
            finished_at=timezone.now(),
        )
        return Takeover.objects.get(pk=takeover_id)
