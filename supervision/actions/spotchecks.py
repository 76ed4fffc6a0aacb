"""Spot checks (抽查): the recorded random draw and each check's record."""

import datetime
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from contracts.models import Agreement
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role
from shenxian_care.validators import require_plausible_date

from ..models import SpotCheck, SpotCheckDraw, SpotCheckMethod, SpotCheckResult
from ..sampling import PHONE_SCRIPT, draw_sample
from ..selectors.spotchecks import population_for

__all__ = ["PHONE_SCRIPT", "draw_sample", "population_for", "spot_check_draw", "spot_check_record"]


@transaction.atomic
def spot_check_draw(*, actor, day=None, town=None, provider=None, level="", size=None, percentage=None, seed=None):
    """Draw and record a sample. The seed is random unless given; the population is stored with it."""
    ensure_role(actor, Role.BUREAU)
    day = day or timezone.localdate()
    if (size is None) == (percentage is None):
        raise ApplicationError("请填写抽样人数或抽样比例（二选一）。", field="size")
    if size is not None and int(size) <= 0:
        raise ApplicationError("抽样人数必须大于0。", field="size")
    if percentage is not None and not (0 < Decimal(percentage) <= 100):
        raise ApplicationError("抽样比例应在0至100之间。", field="percentage")
    population = population_for(day=day, town=town, provider=provider, level=level)
    if not population:
        raise ApplicationError("符合条件的服务对象为0人，无法抽样。")
    seed = secrets.randbits(48) if seed is None else int(seed)
    sample = draw_sample(population, seed, size=size, percentage=percentage)
    return SpotCheckDraw.objects.create(
        drawn_on=day,
        town=town,
        provider=provider,
        level=level or "",
        size=size,
        percentage=percentage,
        seed=seed,
        population=population,
        sample=sample,
        drawn_by=actor,
    )


def _clean_answers(answers):
    answers = answers or {}
    cleaned = {}
    for key, question, choices in PHONE_SCRIPT:
        value = answers.get(key)
        if value not in choices:
            raise ApplicationError(f"电话回访请回答：{question}", field=f"answer_{key}")
        cleaned[key] = value
    if answers.get("comment"):
        cleaned["comment"] = str(answers["comment"]).strip()[:300]
    return cleaned


@transaction.atomic
def spot_check_record(
    *,
    actor,
    recipient,
    method,
    result,
    checked_on: datetime.date | None = None,
    finding: str = "",
    answers=None,
    draw=None,
):
    """Record one check. Town officials record their own on-site checks in their town only."""
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    checked_on = checked_on or timezone.localdate()
    if checked_on > timezone.localdate():
        raise ApplicationError("检查日期不能晚于今天。", field="checked_on")
    require_plausible_date(checked_on, field="checked_on")
    if method not in SpotCheckMethod.values:
        raise ApplicationError("请选择检查方式。", field="method")
    if result not in SpotCheckResult.values:
        raise ApplicationError("请选择检查结果。", field="result")
    if actor_role(actor) == Role.TOWN:
        if method != SpotCheckMethod.ONSITE:
            raise ApplicationError("镇（街道）只登记现场检查。", field="method")
        if recipient.town_id != actor.town_id or draw is not None:
            raise ApplicationError("只能检查本镇（街道）的服务对象。", field="recipient")
    if draw is not None and recipient.pk not in draw.sample:
        raise ApplicationError("该特困人员不在本次抽样名单中。", field="recipient")
    cleaned = _clean_answers(answers) if method == SpotCheckMethod.PHONE else {}
    if result == SpotCheckResult.PROBLEM and not (finding or "").strip():
        raise ApplicationError("发现问题时请填写检查情况。", field="finding")
    agreement = Agreement.objects.in_force_on(checked_on).filter(recipient=recipient).first()
    return SpotCheck.objects.create(
        draw=draw,
        recipient=recipient,
        town=recipient.town,
        provider=agreement.provider if agreement else None,
        method=method,
        checked_on=checked_on,
        result=result,
        finding=(finding or "").strip(),
        answers=cleaned,
        checked_by=actor,
    )
