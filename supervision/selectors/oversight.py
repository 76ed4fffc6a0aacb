"""Scoped reads: serious problems, rectification notices, complaints, spot checks."""

from django.http import Http404

from shenxian_care.scoping import get_for_actor_or_404

from ..models import (
    Complaint,
    CrossCheckBatch,
    CrossCheckHit,
    RectificationNotice,
    RectificationStatus,
    SeriousProblemPhoto,
    SeriousProblemReport,
    SpotCheck,
    SpotCheckDraw,
    Takeover,
)
from ..sampling import draw_sample


def _filter(qs, filters, keys):
    for key in keys:
        if (filters or {}).get(key):
            qs = qs.filter(**{key: filters[key]})
    return qs


def serious_problem_list(*, actor, filters=None):
    qs = SeriousProblemReport.objects.for_actor(actor).select_related(
        "town", "provider", "recipient", "reported_by", "deduction"
    )
    return _filter(qs, filters, ("status", "town", "provider", "category"))


def serious_problem_photo_get_for_actor(*, actor, report_pk, pk):
    """A photo of a report this actor may see (404 otherwise: the evidence is as private as the report)."""
    report = get_for_actor_or_404(SeriousProblemReport.objects.all(), actor, pk=report_pk)
    photo = SeriousProblemPhoto.objects.filter(report=report, pk=pk).first()
    if photo is None:
        raise Http404("未找到该照片。")
    return photo


def serious_problem_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(
        SeriousProblemReport.objects.select_related(
            "town", "provider", "recipient", "contract", "deduction", "reported_by"
        ).prefetch_related("photos"),
        actor,
        pk=pk,
    )


def rectification_list(*, actor, filters=None):
    qs = RectificationNotice.objects.for_actor(actor).select_related("provider", "town", "recipient")
    return _filter(qs, filters, ("status", "provider", "town", "source"))


def rectification_awaiting_answer(*, actor):
    """The notices this provider still has to answer (issued, sent back, or past the deadline unanswered)."""
    return RectificationNotice.objects.for_actor(actor).filter(
        status__in=[RectificationStatus.ISSUED, RectificationStatus.RETURNED, RectificationStatus.OVERDUE]
    )


def rectification_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(
        RectificationNotice.objects.select_related("provider", "town", "recipient", "answered_by"), actor, pk=pk
    )


def complaint_list(*, actor, filters=None):
    qs = Complaint.objects.for_actor(actor).select_related("town", "provider", "recipient")
    return _filter(qs, filters, ("status", "town", "provider", "channel", "priority", "route_to"))


def complaint_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(Complaint.objects.select_related("town", "provider", "recipient"), actor, pk=pk)


def spot_check_list(*, actor, filters=None):
    qs = SpotCheck.objects.for_actor(actor).select_related("recipient", "town", "provider", "checked_by")
    return _filter(qs, filters, ("method", "result", "town", "provider", "draw"))


def spot_check_draw_list(*, actor):
    return SpotCheckDraw.objects.for_actor(actor).select_related("town", "provider", "drawn_by")


def spot_check_draw_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(SpotCheckDraw.objects.select_related("town", "provider"), actor, pk=pk)


def redraw(draw) -> list:
    """Recompute the sample from the stored population and seed: equals `draw.sample` for an honest draw."""
    return draw_sample(draw.population, draw.seed, size=draw.size, percentage=draw.percentage)


def crosscheck_batch_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(CrossCheckBatch.objects.all(), actor, pk=pk)


def crosscheck_hit_list(*, actor, filters=None):
    qs = CrossCheckHit.objects.for_actor(actor).select_related(
        "recipient", "recipient__town", "recipient__village", "batch", "support_exit"
    )
    return _filter(qs, filters, ("batch", "status"))


def crosscheck_hit_get_for_actor(*, actor, pk, batch=None):
    qs = CrossCheckHit.objects.select_related("recipient", "batch")
    if batch is not None:
        qs = qs.filter(batch=batch)
    return get_for_actor_or_404(qs, actor, pk=pk)


def takeover_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(Takeover.objects.select_related("old_provider", "new_provider", "review"), actor, pk=pk)
