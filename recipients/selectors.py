"""Reads of the registry: scoped lists, the level on a day, the month's roster."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from shenxian_care.fields import without_secrets
from shenxian_care.models import Role
from shenxian_care.scoping import get_for_actor_or_404

from .models import (
    ApprovalStatus,
    Assessment,
    CareLevel,
    LevelApproval,
    MonthlyRoster,
    Recipient,
    RosterStatus,
    SupportExit,
    Village,
)

# Number of indicators not achieved → level (特困人员认定办法).
_LEVEL_BY_LOST = {0: CareLevel.SELF_CARE, 1: CareLevel.PARTIAL, 2: CareLevel.PARTIAL, 3: CareLevel.PARTIAL}


def level_from_indicators(answers) -> CareLevel:
    """All six achieved → 自理; 1–3 not achieved → 半失能; 4–6 not achieved → 失能."""
    answers = list(answers)
    if len(answers) != 6 or any(not isinstance(a, bool) for a in answers):
        raise ValueError("需要六项指标的是/否结果")
    lost = answers.count(False)
    return _LEVEL_BY_LOST.get(lost, CareLevel.FULL)


def _latest_approval(recipient_ref, day):
    return (
        LevelApproval.objects.filter(recipient=recipient_ref, effective_date__lte=day)
        .order_by("-effective_date", "-approved_at", "-pk")
        .values("level")[:1]
    )


def level_on(recipient, day: datetime.date):
    """The approved level in force on `day`, or None if no level was approved by then."""
    row = _latest_approval(recipient, day).first()
    return row["level"] if row else None


def levels_on(recipient_ids, day: datetime.date) -> dict:
    """{recipient_id: level} on `day` for many recipients in one query."""
    result = {}
    rows = (
        LevelApproval.objects.filter(recipient_id__in=recipient_ids, effective_date__lte=day)
        .order_by("recipient_id", "-effective_date", "-approved_at", "-pk")
        .values_list("recipient_id", "level")
    )
    for recipient_id, level in rows:
        result.setdefault(recipient_id, level)
    return result


def level_history(recipient):
    return (
        LevelApproval.objects.filter(recipient=recipient)
        .select_related("approved_by")
        .order_by("-effective_date", "-approved_at", "-pk")
    )


def with_level_on(queryset, day: datetime.date):
    """Annotate `level_today` (the approved level on `day`) in the same query."""
    return queryset.annotate(level_today=Subquery(_latest_approval(OuterRef("pk"), day)))


def recipient_list(*, actor, filters=None, day=None):
    filters = filters or {}
    day = day or timezone.localdate()
    qs = without_secrets(Recipient.objects.for_actor(actor).select_related("town", "village"))
    if filters.get("town"):
        qs = qs.filter(town_id=filters["town"])
    if filters.get("village"):
        qs = qs.filter(village_id=filters["village"])
    if filters.get("q"):
        qs = recipient_search(qs, filters["q"])
    if filters.get("in_support"):
        qs = qs.in_support_on(day)
    qs = with_level_on(qs, day)
    if filters.get("level"):
        qs = qs.filter(level_today=filters["level"])
    return qs


def recipient_search(qs, text):
    """A name, or the last digits of the ID number. A full ID number is never taken from a URL (it would end up
    in access logs): look it up with `recipient_find_by_id_number`, which is a POST."""
    q = text.strip().upper()
    if q[:-1].isdigit() and len(q) <= 4:
        return qs.filter(id_number_masked__endswith=q)
    return qs.filter(name__contains=q)


def recipient_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(Recipient.objects.select_related("town", "village"), actor, pk=pk)


def village_list(*, actor, town=None):
    qs = Village.objects.for_actor(actor).select_related("town")
    return qs.filter(town=town) if town else qs


def roster_applied_for(month: datetime.date):
    return MonthlyRoster.objects.filter(month=month, status=RosterStatus.APPLIED).first()


def roster_previous_applied(month: datetime.date):
    return MonthlyRoster.objects.filter(month__lt=month, status=RosterStatus.APPLIED).order_by("-month").first()


SHRINK_CONFIRM_RATIO = Decimal("0.10")


def roster_confirmations(roster) -> list[dict]:
    """What the bureau must confirm, each in so many words, before a previewed roster is applied:

    - `villages`: villages (村/居) the registry does not have; a typo would otherwise become a new village;
    - `shrink`: a list more than 10% shorter than last month's applied one (a half-exported file looks like this).

    Each is {"key", "message", "label"}: the message says what was found, the label is the box the bureau ticks."""
    diff = roster.diff or {}
    needed = []
    villages = diff.get("villages_to_create") or []
    if villages:
        needed.append(
            {
                "key": "villages",
                "message": f"名单中有{len(villages)}个村（居）在系统中没有：{'、'.join(villages)}。"
                "请核对是否写错了村名；确认无误，导入时将新建这些村（居）。",
                "label": f"已核对，确认新建以上{len(villages)}个村（居）",
            }
        )
    previous = roster_previous_applied(roster.month)
    if previous is not None and diff.get("total") is not None:
        before = previous.entries.count()
        fewer = before - diff["total"]
        if before and fewer > before * SHRINK_CONFIRM_RATIO:
            percent = (Decimal(fewer) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            needed.append(
                {
                    "key": "shrink",
                    "message": f"本次名单比上月少 {fewer} 人（{percent}%），请确认"
                    f"（上月{previous.month:%Y年%m月}名单{before}人，本次{diff['total']}人）。",
                    "label": f"已核对，确认本次名单比上月少 {fewer} 人",
                }
            )
    return needed


def _brief(row_or_recipient, **more):
    from shenxian_care.privacy import mask_id_number

    if isinstance(row_or_recipient, dict):
        base = {
            "name": row_or_recipient["name"],
            "id_number": mask_id_number(row_or_recipient["id_number"]),
            "town": row_or_recipient["town"],
            "village": row_or_recipient["village"],
        }
    else:
        base = {
            "name": row_or_recipient.name,
            "id_number": mask_id_number(row_or_recipient.id_number),
            "town": row_or_recipient.town.name,
            "village": row_or_recipient.village.name,
        }
    base.update(more)
    return base


def roster_level_effective_date(row, month_start):
    entry = datetime.date.fromisoformat(row["entry_date"])
    return max(entry, month_start)


def roster_diff(rows, month: datetime.date):
    """What applying these roster rows would change, against the registry and last month's roster."""
    month_start = month.replace(day=1)
    labels = dict(CareLevel.choices)
    ids = [r["id_number"] for r in rows]
    existing = {r.id_number: r for r in Recipient.objects.with_id_numbers(ids).select_related("town", "village")}
    villages = set(Village.objects.values_list("town_id", "name"))
    # One query per distinct effective date (almost always just the first of the month).
    by_date = {}
    for row in rows:
        recipient = existing.get(row["id_number"])
        if recipient is not None:
            by_date.setdefault(roster_level_effective_date(row, month_start), []).append(recipient.pk)
    current_levels = {day: levels_on(pks, day) for day, pks in by_date.items()}
    diff = {"new": [], "exited": [], "level_conflicts": [], "moved_town": [], "missing": [], "villages_to_create": []}
    unchanged = 0
    for row in rows:
        recipient = existing.get(row["id_number"])
        key = (row["town_id"], row["village"])
        if key not in villages:
            villages.add(key)
            diff["villages_to_create"].append(f"{row['town']}{row['village']}")
        if recipient is None:
            diff["new"].append(_brief(row, level=labels[row["level"]], entry_date=row["entry_date"]))
            if row["exit_date"]:
                diff["exited"].append(_brief(row, exit_date=row["exit_date"]))
            continue
        changed = False
        current = current_levels[roster_level_effective_date(row, month_start)].get(recipient.pk)
        if current is None:
            changed = True  # no approved level yet: the roster's becomes the first (see roster_apply)
        elif current != row["level"]:
            # The approved level stands: a roster never changes it. The bureau resolves the conflict by an
            # assessment (or by correcting the provincial record).
            diff["level_conflicts"].append(_brief(row, **{"approved": labels[current], "roster": labels[row["level"]]}))
        if recipient.town_id != row["town_id"]:
            diff["moved_town"].append(_brief(row, **{"from": recipient.town.name, "to": row["town"]}))
            changed = True
        elif recipient.village.name != row["village"]:
            changed = True
        exit_in_row = row["exit_date"]
        current_exit = recipient.exit_date.isoformat() if recipient.exit_date else None
        if exit_in_row and exit_in_row != current_exit:
            diff["exited"].append(_brief(row, exit_date=exit_in_row))
            changed = True
        for field in ("name", "phone", "address", "guardian_name", "guardian_id_number"):
            if (row[field] or "") != (getattr(recipient, field) or "") and row[field]:
                changed = True
        unchanged += 0 if changed else 1
    previous = roster_previous_applied(month_start)
    if previous is not None:
        listed = set(ids)
        for entry in previous.entries.select_related("recipient", "recipient__town", "recipient__village"):
            recipient = entry.recipient
            if recipient.id_number not in listed and recipient.in_support_on(month_start):
                diff["missing"].append(_brief(recipient, previous_month=f"{previous.month:%Y-%m}"))
    diff["unchanged"] = unchanged
    diff["total"] = len(rows)
    diff["has_changes"] = unchanged != len(rows) or bool(diff["villages_to_create"])
    return diff


def recipient_full_id_number(*, actor, recipient, remote_addr=None):
    """The unmasked ID number, for bureau staff and the recipient's own town; every view is audited."""
    from shenxian_care.audit import record_full_view
    from shenxian_care.permissions import ensure_role

    ensure_role(actor, Role.BUREAU, Role.TOWN)
    recipient = get_for_actor_or_404(Recipient.objects.all(), actor, pk=recipient.pk)
    record_full_view(actor=actor, instance=recipient, remote_addr=remote_addr)
    return recipient.id_number


def recipient_find_by_id_number(*, actor, id_number):
    """The recipient with this ID number, if the actor may see them (else 404). Accepts 15/18 digits, x."""
    matches = Recipient.objects.with_id_number(id_number).values_list("pk", flat=True)
    return get_for_actor_or_404(Recipient.objects.select_related("town", "village"), actor, pk__in=matches)


# --- Reported changes awaiting the bureau's decision (待审定), and a town's own reports (我的报告) -----------------


def _with_recipient(queryset):
    return without_secrets(
        queryset.select_related("recipient", "recipient__town", "recipient__village", "created_by", "decided_by"),
        "recipient",
    )


def _has_approved_level():
    return Exists(LevelApproval.objects.filter(recipient=OuterRef("recipient")))


def assessment_list(*, actor, status=None, kind=None):
    """Assessments the actor may see, each with `level_now` (the approved level today, if any) and
    `is_change` (the recipient already has an approved level: a level change, not a first assessment).
    `kind`: "first" or "change"."""
    qs = _with_recipient(Assessment.objects.for_actor(actor)).annotate(
        level_now=Subquery(_latest_approval(OuterRef("recipient"), timezone.localdate())),
        is_change=_has_approved_level(),
    )
    if status:
        qs = qs.filter(status=status)
    if kind == "first":
        qs = qs.filter(is_change=False)
    elif kind == "change":
        qs = qs.filter(is_change=True)
    return qs.order_by("created_at", "pk") if status == ApprovalStatus.PENDING else qs.order_by("-created_at", "-pk")


def exit_list(*, actor, status=None):
    qs = _with_recipient(SupportExit.objects.for_actor(actor))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "pk") if status == ApprovalStatus.PENDING else qs.order_by("-created_at", "-pk")


def assessment_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(_with_recipient(Assessment.objects.all()), actor, pk=pk)


def exit_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(_with_recipient(SupportExit.objects.all()), actor, pk=pk)


def _returned(model):
    """Rejected reports with no later report of the same kind for the same recipient: still to be acted on."""
    later = model.objects.filter(recipient=OuterRef("recipient"), created_at__gt=OuterRef("created_at"))
    return model.objects.filter(status=ApprovalStatus.REJECTED).exclude(Exists(later))


def reports_returned_count(*, actor) -> int:
    """How many of the actor's town's reports the bureau rejected and nobody has reported again since."""
    assessments = _returned(Assessment).for_actor(actor).filter(created_by__role=Role.TOWN)
    exits = _returned(SupportExit).for_actor(actor).filter(created_by__role=Role.TOWN)
    return assessments.count() + exits.count()
