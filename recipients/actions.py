"""Every write to the registry. Each function is one transaction and checks who may do it."""

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import JobProgress, Role
from shenxian_care.permissions import ensure_role
from shenxian_care.progress import SideProgress, job_key
from shenxian_care.queue import enqueue
from shenxian_care.scoping import actor_role
from shenxian_care.validators import parse_id_number, require_plausible_date, validate_phone

from . import events, permissions
from .imports import MAX_BYTES, parse_roster
from .models import (
    ApprovalStatus,
    Assessment,
    CivilCapacity,
    ExitReason,
    LevelApproval,
    LevelSource,
    MonthlyRoster,
    Recipient,
    RosterEntry,
    RosterStatus,
    SupportExit,
    Town,
    Village,
    support_exit_date,
)
from .selectors import (
    level_from_indicators,
    levels_on,
    roster_confirmations,
    roster_diff,
    roster_level_effective_date,
)


def _clean_id(value, *, field="id_number"):
    try:
        return parse_id_number(value)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field=field) from None


def _check_guardian(civil_capacity, guardian_name, guardian_id_number):
    if civil_capacity == CivilCapacity.NONE and not (guardian_name or "").strip():
        raise ApplicationError("无民事行为能力的特困人员必须登记监护人。", field="guardian_name")
    if guardian_id_number:
        return _clean_id(guardian_id_number, field="guardian_id_number")[0]
    return ""


def _check_town_scope(actor, town):
    if actor_role(actor) == Role.TOWN and actor.town_id != town.pk:
        raise ApplicationError("只能登记本镇（街道）的特困人员。", field="town")


def village_get_or_create(*, town: Town, name: str):
    name = (name or "").strip()
    if not name:
        raise ApplicationError("村（居）委会名称不能为空。", field="village")
    village, created = Village.objects.get_or_create(town=town, name=name)
    return village, created


@transaction.atomic
def recipient_create(
    *,
    actor,
    name,
    id_number,
    town,
    village,
    entry_date,
    address="",
    phone="",
    civil_capacity=CivilCapacity.FULL,
    guardian_name="",
    guardian_id_number="",
    guardian_phone="",
    home_latitude=None,
    home_longitude=None,
):
    ensure_role(actor, Role.BUREAU)
    number, birth_date, sex = _clean_id(id_number)
    require_plausible_date(entry_date, field="entry_date")
    if Recipient.objects.with_id_number(number).exists():
        raise ApplicationError("该身份证号已登记，不能重复登记。", field="id_number")
    if village.town_id != town.pk:
        raise ApplicationError("村（居）委会不属于所选镇（街道）。", field="village")
    guardian_id = _check_guardian(civil_capacity, guardian_name, guardian_id_number)
    for value in (phone, guardian_phone):
        try:
            validate_phone(value)
        except ValidationError as exc:
            raise ApplicationError(exc.messages[0], field="phone") from None
    return Recipient.objects.create(
        name=name.strip(),
        id_number=number,
        birth_date=birth_date,
        sex=sex,
        town=town,
        village=village,
        address=address,
        phone=phone,
        civil_capacity=civil_capacity,
        guardian_name=guardian_name.strip(),
        guardian_id_number=guardian_id,
        guardian_phone=guardian_phone,
        entry_date=entry_date,
        home_latitude=home_latitude,
        home_longitude=home_longitude,
    )


_EDITABLE = {
    "name",
    "address",
    "phone",
    "civil_capacity",
    "guardian_name",
    "guardian_id_number",
    "guardian_phone",
    "home_latitude",
    "home_longitude",
    "town",
    "village",
}


@transaction.atomic
def recipient_update(*, actor, recipient, **changes):
    """Edit registration details. Level, entry and exit change only through their own approvals."""
    ensure_role(actor, Role.BUREAU)
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ApplicationError(f"这些信息不能在此修改：{', '.join(sorted(unknown))}。")
    recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
    for field, value in changes.items():
        setattr(recipient, field, value)
    if recipient.village.town_id != recipient.town_id:
        raise ApplicationError("村（居）委会不属于所选镇（街道）。", field="village")
    recipient.guardian_id_number = _check_guardian(
        recipient.civil_capacity, recipient.guardian_name, recipient.guardian_id_number
    )
    recipient.save()
    return recipient


def _lock_for(obj, *, actor, rule):
    """The approval request, locked, if this actor may make this decision on it now (`rule`, from
    recipients.permissions: the same rule the portal's buttons follow). Checked on the object as given
    (a wrong role takes no lock), then again once locked (someone may have decided it meanwhile)."""
    rule(actor, obj)
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    rule(actor, obj)
    return obj


def _record_decision(obj, *, actor, status, reason):
    obj.status = status
    obj.decided_by = actor
    obj.decided_at = timezone.now()
    obj.decision_reason = reason
    obj.save()
    return obj


def _require_reason(reason):
    if not (reason or "").strip():
        raise ApplicationError("请填写不予审定的理由。", field="reason")


@transaction.atomic
def assessment_create(*, actor, recipient, assessed_on, answers: dict, reported_on=None, note=""):
    """Record a self-care assessment (bureau) or a town's report of a changed condition.

    `answers` maps each indicator field (see `Assessment.INDICATORS`) to True (can do it alone).
    """
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    _check_town_scope(actor, recipient.town)
    fields = [field for field, _ in Assessment.INDICATORS]
    missing = [label for field, label in Assessment.INDICATORS if not isinstance(answers.get(field), bool)]
    if missing:
        raise ApplicationError(f"请填写全部六项指标：{'、'.join(missing)}。")
    require_plausible_date(assessed_on, field="assessed_on")
    require_plausible_date(reported_on, field="reported_on")
    if assessed_on > timezone.localdate():
        raise ApplicationError("评估日期不能晚于今天。", field="assessed_on")
    return Assessment.objects.create(
        recipient=recipient,
        assessed_on=assessed_on,
        reported_on=reported_on,
        note=note,
        level=level_from_indicators([answers[f] for f in fields]),
        created_by=actor,
        **{f: answers[f] for f in fields},
    )


@transaction.atomic
def assessment_approve(*, actor, assessment, effective_date: datetime.date, reason=""):
    """The bureau approves the assessed level from `effective_date` on (审定)."""
    require_plausible_date(effective_date, field="effective_date")
    assessment = _lock_for(assessment, actor=actor, rule=permissions.require_approve_assessment)
    if effective_date < assessment.recipient.entry_date:
        raise ApplicationError("生效日期不能早于纳入特困供养日期。", field="effective_date")
    assessment.effective_date = effective_date
    _record_decision(assessment, actor=actor, status=ApprovalStatus.APPROVED, reason=reason)
    approval = LevelApproval.objects.create(
        recipient=assessment.recipient,
        level=assessment.level,
        effective_date=effective_date,
        source=LevelSource.ASSESSMENT,
        assessment=assessment,
        approved_by=actor,
    )
    events.publish(
        events.LEVEL_APPROVED,
        actor=actor,
        recipient=assessment.recipient,
        level=assessment.level,
        effective_date=effective_date,
    )
    return approval


@transaction.atomic
def assessment_reject(*, actor, assessment, reason):
    assessment = _lock_for(assessment, actor=actor, rule=permissions.require_reject_assessment)
    _require_reason(reason)
    return _record_decision(assessment, actor=actor, status=ApprovalStatus.REJECTED, reason=reason)


@transaction.atomic
def exit_report(*, actor, recipient, reason, occurred_on, detail=""):
    """A town (or the bureau) reports that a recipient leaves support (a death on `occurred_on`, or another exit
    from it); the bureau approves it. The exit date follows from the reason (`support_exit_date`)."""
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    _check_town_scope(actor, recipient.town)
    require_plausible_date(occurred_on, field="occurred_on")
    if reason not in ExitReason.values:
        raise ApplicationError("请选择退出原因。", field="reason")
    if occurred_on < recipient.entry_date:
        raise ApplicationError("退出日期不能早于纳入日期。", field="occurred_on")
    effective_date = support_exit_date(reason, occurred_on)
    if SupportExit.objects.filter(recipient=recipient, status=ApprovalStatus.PENDING).exists():
        raise ApplicationError("该特困人员已有待审定的退出申请。")
    return SupportExit.objects.create(
        recipient=recipient,
        reason=reason,
        detail=detail,
        reported_on=timezone.localdate(),
        occurred_on=occurred_on,
        effective_date=effective_date,
        created_by=actor,
    )


@transaction.atomic
def exit_approve(*, actor, support_exit, reason=""):
    """Approve the exit: support, and with it service and billing, end on the effective date."""
    support_exit = _lock_for(support_exit, actor=actor, rule=permissions.require_approve_exit)
    recipient = Recipient.objects.select_for_update().get(pk=support_exit.recipient_id)
    if support_exit.effective_date < recipient.entry_date:
        raise ApplicationError("退出日期不能早于纳入日期。")
    _record_decision(support_exit, actor=actor, status=ApprovalStatus.APPROVED, reason=reason)
    recipient.exit_date = support_exit.effective_date
    recipient.save(update_fields=["exit_date", "updated_at"])
    events.publish(
        events.SUPPORT_ENDED,
        actor=actor,
        recipient=recipient,
        exit_date=recipient.exit_date,
        reason=support_exit.get_reason_display(),
    )
    return support_exit


@transaction.atomic
def exit_reject(*, actor, support_exit, reason):
    support_exit = _lock_for(support_exit, actor=actor, rule=permissions.require_reject_exit)
    _require_reason(reason)
    return _record_decision(support_exit, actor=actor, status=ApprovalStatus.REJECTED, reason=reason)


@transaction.atomic
def roster_preview(*, actor, month: datetime.date, file_name: str, content: bytes):
    """Check an uploaded roster and keep it, with its diff against last month, for the bureau to confirm.

    A file with any bad row raises ApplicationError listing every error; nothing is stored.
    """

    ensure_role(actor, Role.BUREAU)
    month = month.replace(day=1)
    rows, digest = parse_roster(content, month=month)
    return MonthlyRoster.objects.create(
        month=month,
        file_name=file_name[:200],
        file_sha256=digest,
        rows=rows,
        diff=roster_diff(rows, month),
        imported_by=actor,
    )


@transaction.atomic
def roster_upload(*, actor, month: datetime.date, file_name: str, content: bytes):
    """Keep an uploaded roster and check it in the background (large files take a while); the page
    shows the progress, then the errors or the diff."""

    ensure_role(actor, Role.BUREAU)
    if not content:
        raise ApplicationError("上传的文件是空的。")
    if len(content) > MAX_BYTES:
        raise ApplicationError(f"文件过大（超过{MAX_BYTES // 1024 // 1024}MB），请检查是否选错了文件。")
    month = month.replace(day=1)
    # A new upload of a month supersedes that month's failed ones: their error lists are read on the new upload's
    # page now, and the clerk's list of uploads does not fill up with attempts.
    failed = MonthlyRoster.objects.filter(month=month, status=RosterStatus.FAILED)
    JobProgress.objects.filter(job__in=[job_key(r) for r in failed.only("pk")]).delete()
    failed.delete()
    roster = MonthlyRoster.objects.create(
        month=month,
        status=RosterStatus.CHECKING,
        file_name=file_name[:200],
        file_sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        imported_by=actor,
    )
    enqueue("recipients.tasks.roster_check_task", roster.pk)
    return roster


def roster_check(*, roster_id):
    """Check an uploaded roster (the background half of `roster_upload`). Safe to run twice."""

    roster = MonthlyRoster.objects.filter(pk=roster_id, status=RosterStatus.CHECKING).first()
    if roster is None:
        return None
    progress = SideProgress(roster)
    try:
        rows, _digest = parse_roster(bytes(roster.content), month=roster.month, progress=progress)
    except ApplicationError as exc:
        roster.status = RosterStatus.FAILED
        roster.error_message = exc.message[:300]
        roster.errors = exc.extra.get("errors", [])
        roster.content = None  # checked: the file is no longer needed
        roster.save(update_fields=["status", "error_message", "errors", "content"])
        return roster
    finally:
        progress.close()
    roster.rows = rows
    roster.diff = roster_diff(rows, roster.month)
    roster.status = RosterStatus.PREVIEW
    roster.content = None  # the checked rows are all the import needs from here on
    roster.save(update_fields=["rows", "diff", "status", "content"])
    return roster


@transaction.atomic
def roster_apply_request(*, actor, roster, confirmed=()):
    """The bureau confirms the diff: the roster is applied in the background, with its progress shown.

    `confirmed`: the keys of `roster_confirmations` the bureau ticked (villages to create, a list much shorter than
    last month's); the request is refused, naming what is still to confirm, until every one is."""
    ensure_role(actor, Role.BUREAU)
    roster = MonthlyRoster.objects.select_for_update().get(pk=roster.pk)
    if roster.status != RosterStatus.PREVIEW:
        raise ApplicationError("该名单已处理，不能重复导入。")
    missing = [c for c in roster_confirmations(roster) if c["key"] not in set(confirmed)]
    if missing:
        raise ApplicationError(
            "导入前请确认：" + "".join(c["message"] for c in missing), field="confirm", extra={"missing": missing}
        )
    roster.status = RosterStatus.APPLYING
    roster.save(update_fields=["status"])
    enqueue("recipients.tasks.roster_apply_task", roster.pk, actor.pk)
    return roster


@transaction.atomic
def roster_discard(*, actor, roster):
    ensure_role(actor, Role.BUREAU)
    roster = MonthlyRoster.objects.select_for_update().get(pk=roster.pk)
    if roster.status != RosterStatus.PREVIEW:
        raise ApplicationError("只有待确认的名单可以放弃。")
    roster.status = RosterStatus.DISCARDED
    roster.rows, roster.content = [], None
    roster.save(update_fields=["status", "rows", "content"])
    return roster


def roster_mark_failed(*, roster_id, status, error):
    """A background check or import (`status` 检查中 or 导入中) that stopped on an error no row check caught (a
    database refusal, a bug): the upload is marked failed with the reason, never left in `status` for ever.
    Everything the step wrote was rolled back with its transaction. The reason names the kind of error only:
    a database message may quote a row's personal data."""
    message = (
        f"{'检查' if status == RosterStatus.CHECKING else '导入'}时出错（{type(error).__name__}），未写入任何数据。"
        "请核对名单后重新上传；如仍出错，请联系系统管理员。"
    )
    return MonthlyRoster.objects.filter(pk=roster_id, status=status).update(
        status=RosterStatus.FAILED, error_message=message[:300]
    )


@transaction.atomic
def roster_apply(*, actor, roster):
    """Apply a previewed roster to the registry: all rows or none.

    New recipients are registered; changed details, town and village are updated; a recipient with no
    approved level takes the roster's from the first of the month (or the entry date), while a level that
    differs from an approved one is only a conflict for the bureau (never re-approved); an exit date becomes an
    approved exit, which ends the recipient's agreements. Recipients missing from the list are only reported:
    their exit needs its own approval. Applying the same file again for the same month changes nothing.
    """

    ensure_role(actor, Role.BUREAU)
    roster = MonthlyRoster.objects.select_for_update().get(pk=roster.pk)
    if roster.status not in (RosterStatus.PREVIEW, RosterStatus.APPLYING):
        raise ApplicationError("该名单已处理，不能重复导入。")
    # Serialise imports of the same month: lock the month's applied roster, if any.
    current = MonthlyRoster.objects.select_for_update().filter(month=roster.month, status=RosterStatus.APPLIED).first()
    if current is not None and current.file_sha256 == roster.file_sha256:
        roster.status = RosterStatus.DISCARDED
        roster.error_message = "与已导入的本月名单完全相同，未作任何改动。"
        roster.rows, roster.content = [], None
        roster.save(update_fields=["status", "error_message", "rows", "content"])
        return current
    progress = SideProgress(roster)
    try:
        return _apply_rows(actor, roster, current, progress)
    finally:
        progress.close()


def _apply_rows(actor, roster, current, progress):

    month_start = roster.month
    rows = roster.rows
    progress.start(len(rows))
    towns = {t.pk: t for t in Town.objects.all()}
    existing = {
        r.id_number: r
        for r in Recipient.objects.select_for_update().with_id_numbers([row["id_number"] for row in rows])
    }
    villages = {(v.town_id, v.name): v for v in Village.objects.filter(town_id__in={r["town_id"] for r in rows})}
    created_villages = []
    entries = []
    level_rows = []
    for row in rows:
        progress.tick()
        town = towns[row["town_id"]]
        village = villages.get((town.pk, row["village"]))
        if village is None:
            village = Village.objects.create(town=town, name=row["village"])
            villages[(town.pk, row["village"])] = village
            created_villages.append(str(village))
        recipient = existing.get(row["id_number"])
        entry_date = datetime.date.fromisoformat(row["entry_date"])
        if recipient is None:
            recipient = Recipient.objects.create(
                name=row["name"],
                id_number=row["id_number"],
                birth_date=datetime.date.fromisoformat(row["birth_date"]),
                sex=row["sex"],
                town=town,
                village=village,
                address=row["address"],
                phone=row["phone"],
                guardian_name=row["guardian_name"],
                guardian_id_number=row["guardian_id_number"],
                entry_date=entry_date,
            )
            existing[row["id_number"]] = recipient
        else:
            changed = []
            for field, value in (("name", row["name"]), ("town", town), ("village", village)):
                if getattr(recipient, field) != value:
                    setattr(recipient, field, value)
                    changed.append(field)
            for field in ("address", "phone", "guardian_name", "guardian_id_number"):
                if row[field] and getattr(recipient, field) != row[field]:
                    setattr(recipient, field, row[field])
                    changed.append(field)
            if changed:
                recipient.save(update_fields=[*changed, "updated_at"])
        level_rows.append((recipient, row, roster_level_effective_date(row, month_start)))

        exit_date = datetime.date.fromisoformat(row["exit_date"]) if row["exit_date"] else None
        if exit_date and recipient.exit_date != exit_date:
            now = timezone.now()
            SupportExit.objects.create(
                recipient=recipient,
                reason="other",
                detail=f"{month_start:%Y年%m月}名单载明退出",
                reported_on=timezone.localdate(),
                effective_date=exit_date,
                status=ApprovalStatus.APPROVED,
                roster=roster,
                created_by=actor,
                decided_by=actor,
                decided_at=now,
                decision_reason="按省救助系统名单",
            )
            recipient.exit_date = exit_date
            recipient.save(update_fields=["exit_date", "updated_at"])
            events.publish(
                events.SUPPORT_ENDED, actor=actor, recipient=recipient, exit_date=exit_date, reason="名单载明退出"
            )
        entries.append(
            RosterEntry(
                roster=roster,
                recipient=recipient,
                town=town,
                village=village,
                level=row["level"],
                exit_date=exit_date,
            )
        )

    by_date = {}
    for recipient, _row, day in level_rows:
        by_date.setdefault(day, []).append(recipient.pk)
    current_levels = {day: levels_on(pks, day) for day, pks in by_date.items()}
    for recipient, row, day in level_rows:
        # Only a recipient with no approved level yet takes the roster's; a different level on the roster is a
        # conflict shown in the preview, and the approved level stands until an assessment changes it.
        if current_levels[day].get(recipient.pk) is None:
            LevelApproval.objects.create(
                recipient=recipient,
                level=row["level"],
                effective_date=day,
                source=LevelSource.ROSTER,
                roster=roster,
                approved_by=actor,
            )

    if current is not None:
        current.status = RosterStatus.SUPERSEDED
        current.save(update_fields=["status"])
    RosterEntry.objects.bulk_create(entries, batch_size=1000)
    roster.status = RosterStatus.APPLIED
    roster.applied_at = timezone.now()
    roster.created_villages = created_villages
    # Applied: the registry and the roster entries hold the result; the working copy goes.
    roster.rows, roster.content = [], None
    roster.save(update_fields=["status", "applied_at", "created_villages", "rows", "content"])
    events.publish(events.ROSTER_APPLIED, actor=actor, roster=roster, diff=roster.diff)
    progress.finish()
    return roster


def roster_purge_expired(*, now=None):
    """Delete uploads never applied (failed, discarded, or left in preview or checking) once older than
    ROSTER_RETENTION_DAYS: they hold personal data the registry does not need. Applied and superseded rosters
    stay (approvals and roster entries name them; their rows were dropped when applied). Returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.ROSTER_RETENTION_DAYS)
    stale = MonthlyRoster.objects.filter(
        created_at__lt=cutoff,
        status__in=[RosterStatus.FAILED, RosterStatus.DISCARDED, RosterStatus.PREVIEW, RosterStatus.CHECKING],
    )
    keys = [job_key(roster) for roster in stale.only("pk")]
    with transaction.atomic():
        JobProgress.objects.filter(job__in=keys).delete()
        _total, by_model = stale.delete()
    return by_model.get(MonthlyRoster._meta.label, 0)
