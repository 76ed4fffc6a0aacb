"""Reads for the monthly evaluations: who serves a town, who has not submitted, the current sheet."""

from django.db.models import Prefetch

from contracts.models import Agreement, Provider
from recipients.models import Town
from services.selectors import town_provider_visit_facts
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role, get_for_actor_or_404

from ..dates import month_end, month_start
from ..models import Evaluation, EvaluationItem, EvaluationScore, EvaluationSheet, EvaluationStatus, Notification
from ..scoring import item_points, weight_total


def current_sheet():
    sheet = EvaluationSheet.objects.filter(is_current=True).first()
    if sheet is None:
        raise LookupError("没有正在使用的考评表")
    return sheet


def sheet_in_use(sheet) -> bool:
    """A sheet some evaluation was scored on: its items may no longer change."""
    return Evaluation.objects.filter(sheet=sheet).exists()


def serving_pairs(month, *, town=None, provider=None):
    """{(town_id, provider_id)} with a signed agreement covering some day of the month: who must be evaluated."""
    first, last = month_start(month), month_end(month)
    qs = Agreement.objects.in_force_between(first, last)
    if town is not None:
        qs = qs.filter(town=town)
    if provider is not None:
        qs = qs.filter(provider=provider)
    return set(qs.values_list("town_id", "provider_id").distinct())


def providers_serving_town(*, town, month):
    ids = {provider_id for _, provider_id in serving_pairs(month, town=town)}
    return Provider.objects.filter(pk__in=ids).order_by("name")


def evaluation_list(*, actor, filters=None):
    filters = filters or {}
    qs = Evaluation.objects.for_actor(actor).select_related("town", "provider", "sheet", "submitted_by")
    for key in ("town", "provider", "status", "month"):
        if filters.get(key):
            qs = qs.filter(**{key: filters[key]})
    return qs


def evaluation_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(
        Evaluation.objects.select_related("town", "provider", "sheet").prefetch_related(
            Prefetch("scores", queryset=EvaluationScore.objects.select_related("item")),
            Prefetch("remarks"),
            Prefetch("sheet__items", queryset=EvaluationItem.objects.order_by("sort_order", "code")),
        ),
        actor,
        pk=pk,
    )


def evaluation_missing(*, actor, month):
    """Rows (town, provider, evaluation or None) for every pair that served in `month` without a submitted
    evaluation. Bureau sees every town; a town official only their own; other roles nothing."""
    role = actor_role(actor)
    if role == Role.BUREAU:
        pairs = serving_pairs(month)
    elif role == Role.TOWN:
        pairs = serving_pairs(month, town=actor.town)
    else:
        return []
    return _missing_rows(pairs, month)


def evaluation_missing_count(*, actor, month) -> int:
    """How many rows `evaluation_missing` would list, in two queries whatever the county's size (for the desk)."""
    role = actor_role(actor)
    if role not in (Role.BUREAU, Role.TOWN):
        return 0
    pairs = serving_pairs(month, town=actor.town if role == Role.TOWN else None)
    if not pairs:
        return 0
    submitted = Evaluation.objects.filter(
        month=month_start(month), status=EvaluationStatus.SUBMITTED, town_id__in={t for t, _ in pairs}
    ).values_list("town_id", "provider_id")
    return len(pairs - set(submitted))


def _missing_rows(pairs, month):
    existing = {
        (e.town_id, e.provider_id): e
        for e in Evaluation.objects.filter(month=month_start(month), town_id__in={t for t, _ in pairs})
    }
    towns = Town.objects.in_bulk({t for t, _ in pairs})
    providers = Provider.objects.in_bulk({p for _, p in pairs})
    rows = []
    for town_id, provider_id in pairs:
        evaluation = existing.get((town_id, provider_id))
        if evaluation is not None and evaluation.status == EvaluationStatus.SUBMITTED:
            continue
        rows.append({"town": towns[town_id], "provider": providers[provider_id], "evaluation": evaluation})
    rows.sort(key=lambda r: (r["town"].sort_order, r["town"].code, r["provider"].name))
    return rows


def missing_by_town(month):
    """System read for the reminder task: {town: [provider, ...]} still owing an evaluation for `month`."""
    result = {}
    for row in _missing_rows(serving_pairs(month), month):
        result.setdefault(row["town"], []).append(row["provider"])
    return result


def notification_list(*, actor, unread_only=False):
    qs = Notification.objects.for_actor(actor).select_related("town", "provider")
    return qs.unread() if unread_only else qs


def evaluation_visit_facts(evaluation) -> dict:
    """The month's visit facts for the evaluation's town and provider (services' figures), shown on the sheet."""
    return town_provider_visit_facts(town=evaluation.town, provider=evaluation.provider, month=evaluation.month)


def evaluation_sheet_totals(evaluation) -> dict:
    """The sheet's weights and the scores saved so far, as the form's 合计 row shows them: the weights' sum (100)
    and the total of the items' points, which is the total the submission will fix (or has fixed)."""
    items = list(evaluation.sheet.items.all())
    saved = {s.item_id: s for s in evaluation.scores.all()}
    total_weight = weight_total(items)
    points = {item.pk: item_points(item, saved[item.pk].score, total_weight) for item in items if item.pk in saved}
    return {
        "rows": [(item, saved.get(item.pk), points.get(item.pk)) for item in items],
        "weight": total_weight,
        "max": sum((item.max_score for item in items), 0),
        "points": points,
        "total": sum(points.values(), 0) if points else None,
        "complete": len(points) == len(items),
    }
