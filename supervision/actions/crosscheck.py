"""Data cross-check: import the list of deaths and cancelled registrations, flag, confirm the exit."""

from django.db import transaction
from django.utils import timezone

from recipients.actions import exit_approve, exit_report
from recipients.models import ApprovalStatus, ExitReason, Recipient, SupportExit
from services.models import Visit
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role

from ..imports import file_digest, parse_crosscheck
from ..models import CrossCheckBatch, CrossCheckEvent, CrossCheckHit, CrossCheckHitStatus, ProblemCategory
from .problems import serious_problem_report


@transaction.atomic
def crosscheck_import(*, actor, content: bytes, file_name: str, source: str = ""):
    """All or nothing: a file with any bad row imports nothing. Every recipient on the list who is still in
    support on the listed date is flagged, with the number of visits logged after that date."""
    ensure_role(actor, Role.BUREAU)
    rows = parse_crosscheck(content)
    by_id = {row["id_number"]: row for row in rows}
    recipients = Recipient.objects.with_id_numbers(list(by_id))
    batch = CrossCheckBatch.objects.create(
        file_name=(file_name or "名单.xlsx")[:200],
        file_sha256=file_digest(content),
        source=(source or "")[:100],
        row_count=len(rows),
        imported_by=actor,
    )
    hits = []
    for recipient in recipients:
        row = by_id[recipient.id_number]
        if recipient.exit_date is not None and recipient.exit_date <= row["event_date"]:
            continue  # already out of support by then
        visits_after = Visit.objects.filter(recipient=recipient, visit_date__gt=row["event_date"]).count()
        hits.append(
            CrossCheckHit(
                batch=batch,
                recipient=recipient,
                row_number=row["row"],
                listed_name=row["name"],
                event=row["event"],
                event_date=row["event_date"],
                visits_after=visits_after,
            )
        )
    CrossCheckHit.objects.bulk_create(hits)
    return batch


def _lock_flagged(hit):
    hit = CrossCheckHit.objects.select_for_update(of=("self",)).select_related("recipient").get(pk=hit.pk)
    if hit.status != CrossCheckHitStatus.FLAGGED:
        raise ApplicationError("该疑点已处理。")
    return hit


@transaction.atomic
def crosscheck_confirm_exit(*, actor, hit, note: str = "", report_false_data: bool = False):
    """One step: report and approve the exit from support, effective on the listed date.

    With `report_false_data`, each provider that logged visits after that date gets a serious-problem report
    of the category 弄虚作假、虚报数据 for the bureau to verify (verified, it is the review's one-vote veto)."""
    ensure_role(actor, Role.BUREAU)
    hit = _lock_flagged(hit)
    if SupportExit.objects.filter(recipient=hit.recipient, status=ApprovalStatus.PENDING).exists():
        raise ApplicationError("该特困人员已有待审定的退出申请，请先在退出审定中处理。")
    reason = ExitReason.DEATH if hit.event == CrossCheckEvent.DEATH else ExitReason.OTHER
    detail = f"数据比对（{hit.batch.file_name}第{hit.row_number}行）：{hit.get_event_display()}于{hit.event_date}"
    support_exit = exit_report(
        actor=actor, recipient=hit.recipient, reason=reason, occurred_on=hit.event_date, detail=detail[:200]
    )
    support_exit = exit_approve(actor=actor, support_exit=support_exit, reason=(note or "数据比对确认")[:200])
    hit.status = CrossCheckHitStatus.CONFIRMED
    hit.support_exit = support_exit
    hit.decided_by = actor
    hit.decided_at = timezone.now()
    hit.note = (note or "").strip()[:300]
    hit.save()
    if report_false_data:
        _report_visits_after(actor=actor, hit=hit)
    return hit


def _report_visits_after(*, actor, hit):
    visits = Visit.objects.filter(recipient=hit.recipient, visit_date__gt=hit.event_date).select_related("provider")
    by_provider = {}
    for visit in visits.order_by("visit_date", "pk"):
        by_provider.setdefault(visit.provider, []).append(visit)
    if not by_provider:
        raise ApplicationError("该日期之后没有服务记录，无需登记虚报问题。")
    for provider, logged in by_provider.items():
        serious_problem_report(
            actor=actor,
            provider=provider,
            town=hit.recipient.town,
            recipient=hit.recipient,
            category=ProblemCategory.FALSE_DATA,
            occurred_on=logged[0].visit_date,
            description=(
                f"数据比对：{hit.recipient.name}已于{hit.event_date}{hit.get_event_display()}，"
                f"此后仍登记上门服务{len(logged)}次（{logged[0].visit_date}至{logged[-1].visit_date}）。"
            ),
        )


@transaction.atomic
def crosscheck_dismiss(*, actor, hit, note: str):
    ensure_role(actor, Role.BUREAU)
    if not (note or "").strip():
        raise ApplicationError("请填写核实不符的情况。", field="note")
    hit = _lock_flagged(hit)
    hit.status = CrossCheckHitStatus.DISMISSED
    hit.decided_by = actor
    hit.decided_at = timezone.now()
    hit.note = note.strip()[:300]
    hit.save()
    return hit
