"""Every write to providers, contracts, caregivers and four-party agreements."""

import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from recipients.models import Recipient
from recipients.selectors import level_on
from shenxian_care.actions import password_check, user_deactivate
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role, User
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role
from shenxian_care.validators import parse_id_number, require_plausible_date, validate_credit_code

from .models import (
    Agreement,
    AgreementStatus,
    Caregiver,
    ContractStatus,
    NoticeKind,
    Provider,
    ProviderNotice,
    PurchaseContract,
)
from .selectors import agreements_overlapping, contract_covering


@transaction.atomic
def provider_create(*, actor, name, credit_code, **details):
    ensure_role(actor, Role.BUREAU)
    code = (credit_code or "").strip().upper()
    try:
        validate_credit_code(code)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="credit_code") from None
    if Provider.objects.filter(credit_code=code).exists():
        raise ApplicationError("该统一社会信用代码已登记。", field="credit_code")
    return Provider.objects.create(name=name.strip(), credit_code=code, **details)


@transaction.atomic
def contract_create(*, actor, provider, number, towns, signed_on, start_date, end_date, **terms):
    ensure_role(actor, Role.BUREAU)
    for field, day in (("signed_on", signed_on), ("start_date", start_date), ("end_date", end_date)):
        require_plausible_date(day, field=field)
    if end_date < start_date:
        raise ApplicationError("服务期限止不能早于服务期限起。", field="end_date")
    if not towns:
        raise ApplicationError("请选择合同服务的镇（街道）。", field="towns")
    contract = PurchaseContract.objects.create(
        provider=provider, number=number, signed_on=signed_on, start_date=start_date, end_date=end_date, **terms
    )
    contract.towns.set(towns)
    return contract


@transaction.atomic
def contract_terminate(*, actor, contract, terminated_on: datetime.date, reason: str):
    """End a purchase contract. (Moving its recipients to another provider is the takeover plan.)"""
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写终止原因。", field="reason")
    contract = PurchaseContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != ContractStatus.ACTIVE:
        raise ApplicationError("只有履行中的合同可以终止。")
    contract.status = ContractStatus.TERMINATED
    contract.terminated_on = terminated_on
    contract.termination_reason = reason
    contract.save()
    return contract


def _provider_of(actor, provider):
    """Provider staff act for their own provider only, whatever they ask for."""
    if actor_role(actor) == Role.PROVIDER:
        if provider is not None and provider.pk != actor.provider_id:
            raise ApplicationError("只能为本机构办理。", field="provider")
        return actor.provider
    if provider is None:
        raise ApplicationError("请选择服务机构。", field="provider")
    return provider


@transaction.atomic
def caregiver_create(
    *, actor, name, id_number, phone, hired_on, provider=None, username=None, password=None, **details
):
    """Register a caregiver of a provider, with a phone login when a username is given."""
    ensure_role(actor, Role.BUREAU, Role.PROVIDER)
    provider = _provider_of(actor, provider)
    require_plausible_date(hired_on, field="hired_on")
    try:
        number, _, _ = parse_id_number(id_number)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="id_number") from None
    if Caregiver.objects.with_id_number(number).exists():
        raise ApplicationError("该身份证号已登记为照料护理人（照料护理人只能属于一个服务机构）。", field="id_number")
    user = None
    if username:
        if User.objects.filter(username=username).exists():
            raise ApplicationError("该登录名已被使用。", field="username")
        user = User(username=username, role=Role.CAREGIVER, last_name=name[:1], first_name=name[1:], phone=phone)
        if password:
            password_check(password, user=user)
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return Caregiver.objects.create(
        provider=provider, user=user, name=name, id_number=number, phone=phone, hired_on=hired_on, **details
    )


@transaction.atomic
def caregiver_deactivate(*, actor, caregiver, left_on, request=None):
    """A caregiver leaves the provider (bureau staff, or the provider's own staff): no longer in post, and their
    login, with every session and phone token it has, ends at once."""
    ensure_role(actor, Role.BUREAU, Role.PROVIDER)
    caregiver = Caregiver.objects.select_for_update().get(pk=caregiver.pk)
    _provider_of(actor, caregiver.provider)
    if left_on is None:
        raise ApplicationError("请填写离职日期。", field="left_on")
    caregiver.is_active = False
    caregiver.left_on = left_on
    caregiver.save(update_fields=["is_active", "left_on"])
    if caregiver.user_id:
        user_deactivate(actor=actor, user=caregiver.user, request=request)
    return caregiver


def _next_agreement_number(day):
    prefix = f"SXXY{day:%Y%m}"
    last = Agreement.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
    seq = int(last[0][len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:05d}"


def _check_no_overlap(*, recipient, start_date, end_date, exclude_pk=None):
    clash = agreements_overlapping(
        recipient=recipient, start_date=start_date, end_date=end_date, exclude_pk=exclude_pk
    ).first()
    if clash is not None:
        raise ApplicationError(
            f"该特困人员在此期间已有有效协议（{clash.number}，{clash.start_date}起），同一天只能有一份有效协议。",
            field="start_date",
        )


@transaction.atomic
def agreement_create(
    *,
    actor,
    recipient,
    caregiver,
    start_date,
    provider=None,
    village=None,
    end_date=None,
    village_signatory="",
    replaces=None,
    provider_signed_on=None,
):
    """The provider drafts (and signs) the four-party agreement; the town then signs it.

    Checks: the recipient is in support; the provider has an active contract covering the recipient's town;
    the caregiver is the provider's own and active; a guardian signs where the recipient has no civil
    capacity; and the recipient has no other agreement on any of these days. `replaces` names the agreement
    this one follows (a takeover or a change of caregiver). `provider_signed_on` is the day the provider signed
    the paper (default today; never in the future).
    """
    ensure_role(actor, Role.BUREAU, Role.PROVIDER)
    provider = _provider_of(actor, provider)
    recipient = Recipient.objects.select_for_update().select_related("town", "village").get(pk=recipient.pk)
    village = village or recipient.village
    require_plausible_date(start_date, field="start_date")
    require_plausible_date(end_date, field="end_date")
    if end_date is not None and end_date < start_date:
        raise ApplicationError("服务结束日期不能早于开始日期。", field="end_date")
    if not recipient.in_support_on(start_date):
        raise ApplicationError("该特困人员在服务开始日期不在供养期内。", field="start_date")
    if village.town_id != recipient.town_id:
        raise ApplicationError("村（居）委会应与特困人员所在镇（街道）一致。", field="village")
    contract = contract_covering(provider=provider, town=recipient.town, day=start_date)
    if contract is None:
        raise ApplicationError(
            f"{provider.name}在{start_date}没有覆盖{recipient.town.name}的有效购买服务合同。", field="provider"
        )
    if caregiver.provider_id != provider.pk:
        raise ApplicationError("照料护理人必须是本服务机构聘用的人员（严禁转包）。", field="caregiver")
    if not caregiver.is_active:
        raise ApplicationError("该照料护理人已离职。", field="caregiver")
    if recipient.needs_guardian and not recipient.guardian_name:
        raise ApplicationError("该特困人员无民事行为能力，须先登记监护人，由监护人代为签订。", field="recipient")
    _check_no_overlap(recipient=recipient, start_date=start_date, end_date=end_date)
    now = timezone.now()
    if provider_signed_on is not None and provider_signed_on > timezone.localdate():
        raise ApplicationError("服务机构签字日期不能晚于今天。", field="provider_signed_on")
    signed_at = (
        timezone.make_aware(datetime.datetime.combine(provider_signed_on, datetime.time(9)))
        if provider_signed_on is not None and provider_signed_on < timezone.localdate()
        else now
    )
    level = level_on(recipient, start_date)
    if level is None:
        raise ApplicationError("该特困人员尚无审定的自理能力等级，不能签订协议。", field="recipient")
    return Agreement.objects.create(
        number=_next_agreement_number(start_date),
        contract=contract,
        provider=provider,
        town=recipient.town,
        village=village,
        recipient=recipient,
        signed_by_guardian=recipient.needs_guardian,
        signatory_name=recipient.guardian_name if recipient.needs_guardian else recipient.name,
        caregiver=caregiver,
        level_at_signing=level,
        start_date=start_date,
        end_date=end_date,
        village_signatory=village_signatory,
        replaces=replaces,
        provider_signed_by=actor,
        provider_signed_at=signed_at,
    )


@transaction.atomic
def agreement_sign_as_town(
    *, actor, agreement, signed_on=None, village_signatory="", village_signed_on=None, recipient_signed_on=None
):
    """The town government signs last and records the paper's other signatures: the village (居) committee's
    signatory and date, and the date the recipient (or guardian) signed. The agreement is in force from the
    later of its start date and the last of the four signatures (`signed_on`); service and pay start then.
    Dates default to the town's signing date (`signed_on`, default today); none may be in the future."""
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if actor_role(actor) == Role.TOWN and agreement.town_id != actor.town_id:
        raise ApplicationError("只能以本镇（街道）名义签订协议。")
    if agreement.status != AgreementStatus.DRAFT:
        raise ApplicationError("该协议已签订或已终止。")
    if not agreement.recipient.in_support_on(agreement.start_date):
        raise ApplicationError("该特困人员在服务开始日期不在供养期内（已退出供养），不能签订。")
    today = timezone.localdate()
    town_signed_on = signed_on or today
    village_signatory = (village_signatory or agreement.village_signatory or "").strip()
    if not village_signatory:
        raise ApplicationError("四方协议须由村（居）委会签字：请填写村（居）委会签字人。", field="village_signatory")
    village_signed_on = village_signed_on or town_signed_on
    recipient_signed_on = recipient_signed_on or town_signed_on
    provider_signed_on = timezone.localtime(agreement.provider_signed_at).date()
    party = "监护人" if agreement.signed_by_guardian else "特困人员"
    for day, field, label in (
        (town_signed_on, "signed_on", "镇（街道）签字日期"),
        (village_signed_on, "village_signed_on", "村（居）委会签字日期"),
        (recipient_signed_on, "recipient_signed_on", f"{party}签字日期"),
    ):
        if day > today:
            raise ApplicationError(f"{label}不能晚于今天。", field=field)
    _check_no_overlap(
        recipient=agreement.recipient,
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        exclude_pk=agreement.pk,
    )
    agreement.status = AgreementStatus.SIGNED
    agreement.town_signed_by = actor
    agreement.town_signed_at = timezone.now()
    agreement.village_signatory = village_signatory
    agreement.village_signed_on = village_signed_on
    agreement.recipient_signed_on = recipient_signed_on
    # The last of the four signatures: the agreement is in force from the later of this and its start date.
    agreement.signed_on = max(provider_signed_on, town_signed_on, village_signed_on, recipient_signed_on)
    try:
        with transaction.atomic():
            agreement.save()
    except IntegrityError:
        raise ApplicationError("该特困人员在此期间已有有效协议，同一天只能有一份有效协议。") from None
    return agreement


@transaction.atomic
def agreement_terminate(*, actor, agreement, last_day: datetime.date, reason: str):
    """End the agreement after `last_day` (inclusive). Used for exits, caregiver changes and takeovers."""
    ensure_role(actor, Role.BUREAU, Role.PROVIDER)
    if not (reason or "").strip():
        raise ApplicationError("请填写终止原因。", field="reason")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _provider_of(actor, agreement.provider)
    if agreement.status != AgreementStatus.SIGNED:
        raise ApplicationError("只有已签订的协议可以终止。")
    if last_day < agreement.start_date:
        raise ApplicationError("终止日期不能早于协议开始日期。", field="last_day")
    if agreement.end_date is not None and last_day > agreement.end_date:
        raise ApplicationError("终止日期不能晚于协议原定结束日期。", field="last_day")
    agreement.status = AgreementStatus.TERMINATED
    agreement.end_date = last_day
    agreement.terminated_at = timezone.now()
    agreement.termination_reason = reason
    agreement.save()
    return agreement


# Reactions to what happens to recipients (recipients.events), registered in ContractsConfig.ready().


def agreements_end_for_exit(*, actor, recipient, exit_date: datetime.date, reason: str):
    """An approved exit ends the recipient's agreements on the exit date (their last day is the day before;
    for a death the exit date is the day after it, so the day of death is still served) and tells the provider.
    Visits after it are refused by verification, which reads the same windows."""
    last_day = exit_date - datetime.timedelta(days=1)
    ended = Agreement.objects.select_for_update().filter(recipient=recipient).running_from(exit_date)
    now = timezone.now()
    for agreement in ended:
        agreement.status = AgreementStatus.TERMINATED
        # An agreement that had not started by the exit keeps its start as its end (the check constraint wants
        # end >= start); the recipient is out of support then, so no day of it is served or paid.
        agreement.end_date = max(last_day, agreement.start_date)
        agreement.terminated_at = now
        agreement.termination_reason = f"特困人员退出供养（{reason}），{exit_date:%Y年%m月%d日}起终止服务"[:200]
        agreement.save(update_fields=["status", "end_date", "terminated_at", "termination_reason"])
        ProviderNotice.objects.create(
            provider_id=agreement.provider_id,
            kind=NoticeKind.EXIT,
            month=exit_date.replace(day=1),
            agreement=agreement,
            message=(
                f"{recipient.name}（{agreement.number}）退出供养（{reason}），"
                f"协议服务至{agreement.end_date:%Y年%m月%d日}止，此后请勿再上门服务或登记。"
            )[:300],
        )


def providers_told_of_level(*, actor, recipient, level, effective_date):
    """The provider serving the recipient on the effective date (or later) learns the new approved level."""
    from recipients.models import CareLevel

    serving = Agreement.objects.filter(recipient=recipient).running_from(effective_date)
    serving = serving.values_list("pk", "provider_id", "number")
    for pk, provider_id, number in serving:
        ProviderNotice.objects.create(
            provider_id=provider_id,
            kind=NoticeKind.LEVEL,
            month=effective_date.replace(day=1),
            agreement_id=pk,
            message=(
                f"{recipient.name}（{number}）自理能力等级审定为{CareLevel(level).label}，"
                f"{effective_date:%Y年%m月%d日}起执行，请按新等级安排服务。"
            ),
        )


def providers_told_of_roster(*, actor, roster, diff):
    """The month's list (名单) reaches each provider with a contract in force in the month: the new, exited and
    moved people of the towns its contracts serve, as the plan has the bureau send it."""
    from shenxian_care.months import month_end

    first, last = roster.month, month_end(roster.month)
    towns_of = defaultdict(set)
    for provider_id, town_name in PurchaseContract.objects.in_force_between(first, last).values_list(
        "provider_id", "towns__name"
    ):
        if town_name:
            towns_of[provider_id].add(town_name)
    for provider_id, towns in towns_of.items():
        mine = {
            key: [d for d in diff.get(key, []) if d.get("town") in towns or d.get("from") in towns]
            for key in ("new", "exited", "moved_town")
        }
        if not any(mine.values()):
            continue
        ProviderNotice.objects.create(
            provider_id=provider_id,
            kind=NoticeKind.ROSTER,
            month=roster.month,
            message=(
                f"{roster.month:%Y年%m月}分散供养特困人员名单：本机构服务镇（街道）新增{len(mine['new'])}人，"
                f"退出{len(mine['exited'])}人，迁移镇（街道）{len(mine['moved_town'])}人。"
            ),
            details=mine,
        )


@transaction.atomic
def notices_mark_read(*, actor, ids=None):
    """Provider staff mark their own provider's notices read (all unread ones when `ids` is None)."""
    ensure_role(actor, Role.PROVIDER)
    qs = ProviderNotice.objects.for_actor(actor).unread()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now(), read_by=actor)
