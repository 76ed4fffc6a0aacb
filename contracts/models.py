import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from recipients.models import Recipient, Town, Village, in_support_q
from shenxian_care.crypto import digest
from shenxian_care.fields import DigestField, EncryptedTextField, MaskedIdField
from shenxian_care.models import Role
from shenxian_care.months import overlap
from shenxian_care.scoping import ScopedQuerySet, actor_role
from shenxian_care.validators import validate_credit_code, validate_id_number, validate_phone


class ProviderQuerySet(ScopedQuerySet):
    scope_provider = "pk"
    scope_town = "contracts__towns"
    scope_finance_all = True


class Provider(models.Model):
    """A third-party service provider (第三方服务机构) that won the county's purchase contract."""

    name = models.CharField("机构名称", max_length=100, unique=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_credit_code])
    legal_representative = models.CharField("法定代表人", max_length=32, blank=True)
    contact_name = models.CharField("联系人", max_length=32, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True, validators=[validate_phone])
    address = models.CharField("地址", max_length=200, blank=True)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account_name = models.CharField("账户名称", max_length=100, blank=True)
    bank_account_number = EncryptedTextField("银行账号", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = "服务机构"
        verbose_name_plural = "服务机构"
        ordering = ["name"]

    def __str__(self):
        return self.name


class RateTableQuerySet(ScopedQuerySet):
    def for_actor(self, user):
        # The price list is public to every signed-in role.
        return self if actor_role(user) is not None else self.none()  # a login with no role: nothing


class RateTable(models.Model):
    """Monthly care fees per level, in force from `effective_month` until the next row."""

    effective_month = models.DateField("生效月份", unique=True, help_text="该月第一天")
    self_care = models.DecimalField("自理（元/人·月）", max_digits=12, decimal_places=2)
    partial = models.DecimalField("半失能（元/人·月）", max_digits=12, decimal_places=2)
    full = models.DecimalField("失能（元/人·月）", max_digits=12, decimal_places=2)
    basis = models.CharField("依据", max_length=200, blank=True)

    objects = RateTableQuerySet.as_manager()

    class Meta:
        verbose_name = "照料服务费标准"
        verbose_name_plural = "照料服务费标准"
        ordering = ["-effective_month"]
        constraints = [
            models.CheckConstraint(
                name="ratetable_positive",
                condition=Q(self_care__gt=0) & Q(partial__gt=0) & Q(full__gt=0),
                violation_error_message="服务费标准必须大于0。",
            )
        ]

    def __str__(self):
        return f"{self.effective_month:%Y年%m月}起 {self.self_care}/{self.partial}/{self.full}"

    def rate_for(self, level):
        return {"self_care": self.self_care, "partial": self.partial, "full": self.full}[level]


class PayeeMode(models.TextChoices):
    PROVIDER = "provider", "支付至服务机构账户"
    CAREGIVERS = "caregivers", "支付至照料护理人个人账户"


class ContractStatus(models.TextChoices):
    ACTIVE = "active", "履行中"
    TERMINATED = "terminated", "已终止"
    EXPIRED = "expired", "已到期"


class PurchaseContractQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_town = "towns"
    scope_finance_all = True

    def in_force_between(self, first, last):
        """Contracts in force on some day of [first, last] (inclusive): within their term and, if terminated,
        up to the termination date (the last day served). Status alone decides nothing: a contract
        terminated in June was in force in May."""
        return self.filter(contract_in_force_q(first, last))

    def in_force_on(self, day):
        return self.in_force_between(day, day)

    def ending_between(self, first, last):
        """Contracts not terminated whose term ends within [first, last]."""
        return self.filter(terminated_on__isnull=True, end_date__gte=first, end_date__lte=last)


class PurchaseContract(models.Model):
    """The bureau's purchase contract (购买服务合同) with a provider, from the single county template."""

    number = models.CharField("合同编号", max_length=40, unique=True)
    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="contracts")
    towns = models.ManyToManyField(Town, verbose_name="服务镇（街道）", related_name="contracts")
    signed_on = models.DateField("签订日期")
    start_date = models.DateField("服务期限起")
    end_date = models.DateField("服务期限止")
    planned_recipients = models.PositiveIntegerField("服务人数（约）", default=0)
    quality_terms = models.TextField("服务质量要求", blank=True)
    payee_mode = models.CharField("资金结算方式", max_length=16, choices=PayeeMode.choices, default=PayeeMode.PROVIDER)
    status = models.CharField("状态", max_length=16, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    terminated_on = models.DateField("终止日期", null=True, blank=True, help_text="最后一个服务日（含）")
    termination_reason = models.CharField("终止原因", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = PurchaseContractQuerySet.as_manager()

    class Meta:
        verbose_name = "购买服务合同"
        verbose_name_plural = "购买服务合同"
        ordering = ["-start_date", "number"]
        constraints = [
            models.CheckConstraint(
                name="contract_term_order",
                condition=Q(end_date__gte=models.F("start_date")),
                violation_error_message="服务期限止不能早于服务期限起。",
            ),
            models.CheckConstraint(
                name="contract_terminated_has_date",
                condition=~Q(status="terminated") | Q(terminated_on__isnull=False),
                violation_error_message="终止的合同必须有终止日期。",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.provider}"

    @property
    def window(self):
        """(first, last) days in force, inclusive."""
        return contract_window(self.start_date, self.end_date, self.terminated_on)

    def in_force_on(self, day):
        first, last = self.window
        return first <= day <= last


def contract_in_force_q(first, last, prefix=""):
    """The condition of `PurchaseContractQuerySet.in_force_between`, for this model or through a relation (`prefix`,
    e.g. "provider__contracts__"), so a query on another model can join a contract in force instead of nesting a
    subquery."""
    return Q(**{f"{prefix}start_date__lte": last, f"{prefix}end_date__gte": first}) & (
        Q(**{f"{prefix}terminated_on__isnull": True}) | Q(**{f"{prefix}terminated_on__gte": first})
    )


def contract_window(start_date, end_date, terminated_on):
    return start_date, min(end_date, terminated_on) if terminated_on else end_date


class DeductionRuleQuerySet(ScopedQuerySet):
    scope_provider = "contract__provider"
    scope_town = "contract__towns"
    scope_finance_all = True


class DeductionBasis(models.TextChoices):
    PROBLEM = "problem", "查证属实的问题（按次）"
    MISSED_VISIT = "missed_visit", "每缺少一次标准上门服务"
    LOW_EVALUATION = "low_evaluation", "镇（街道）月度考评低于分数线"


class DeductionRule(models.Model):
    """A line of the contract's deduction schedule (扣款标准): what a verified problem costs, or how the month's
    evidence ties pay to service (根据评估考核结果): an amount per standard visit missed, or an amount when a town's
    monthly evaluation scores below `threshold`. The settlement proposes the evidence-based ones; the bureau
    accepts or waives each. The standard template has none: the county chooses."""

    contract = models.ForeignKey(
        PurchaseContract, verbose_name="合同", on_delete=models.CASCADE, related_name="deduction_rules"
    )
    code = models.CharField("编号", max_length=16)
    description = models.CharField("情形", max_length=200)
    amount = models.DecimalField("扣款金额（元）", max_digits=12, decimal_places=2)
    basis = models.CharField("扣款依据", max_length=20, choices=DeductionBasis.choices, default=DeductionBasis.PROBLEM)
    threshold = models.DecimalField(
        "考评分数线", max_digits=5, decimal_places=2, null=True, blank=True, help_text="月度考评低于此分数时扣款"
    )

    objects = DeductionRuleQuerySet.as_manager()

    class Meta:
        verbose_name = "扣款标准"
        verbose_name_plural = "扣款标准"
        ordering = ["contract", "code"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="deductionrule_unique_code"),
            models.CheckConstraint(name="deductionrule_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="deductionrule_threshold_for_evaluations",
                condition=~Q(basis="low_evaluation") | Q(threshold__gt=0, threshold__lte=100),
                violation_error_message="按考评扣款须设置0至100之间的分数线。",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.description}（{self.amount}元）"


class CaregiverQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_town = "agreements__town"
    scope_caregiver = "pk"

    def with_id_number(self, number):
        return self.filter(id_number_digest=digest(number.strip().upper()))


class Caregiver(models.Model):
    """A caregiver (照料护理人) hired by one provider; never lent to another (no subcontracting)."""

    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="caregivers")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="caregiver",
    )
    name = models.CharField("姓名", max_length=32)
    id_number = EncryptedTextField("身份证号", validators=[validate_id_number])
    id_number_digest = DigestField("身份证号摘要", source="id_number", unique=True, null=True)
    id_number_masked = MaskedIdField("身份证号（脱敏）", source="id_number", blank=True, default="", db_default="")
    phone = models.CharField("手机号", max_length=20, validators=[validate_phone])
    home_town = models.ForeignKey(
        Town, verbose_name="所在镇（街道）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account_number = EncryptedTextField("个人银行账号", blank=True)
    hired_on = models.DateField("聘用日期")
    left_on = models.DateField("离职日期", null=True, blank=True)
    is_active = models.BooleanField("在岗", default=True)

    objects = CaregiverQuerySet.as_manager()

    class Meta:
        verbose_name = "照料护理人"
        verbose_name_plural = "照料护理人"
        ordering = ["provider", "name", "pk"]

    def __str__(self):
        return self.name


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "待签订"
    SIGNED = "signed", "已签订"
    TERMINATED = "terminated", "已终止"


class AgreementQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"
    scope_caregiver = "caregiver"

    def for_actor(self, user):
        # A caregiver sees the agreements naming them only while they are current (access ends with service).
        visible = super().for_actor(user)
        if actor_role(user) == Role.CAREGIVER:
            visible = visible.current_on(timezone.localdate())
        return visible

    def in_force_between(self, first, last):
        """Agreements in force on some day of [first, last] (inclusive). An agreement is in force from the
        later of its start date and the day the last of the four parties signed (`signed_on`), up to its end
        date (inclusive; set by termination, by an approved exit, or agreed). Drafts never are."""
        return self.filter(agreement_in_force_q(first, last))

    def in_force_on(self, day):
        return self.in_force_between(day, day)

    def running_from(self, day):
        """Signed agreements (not terminated) whose term has not ended before `day`: in force that day, or
        starting later. What an exit ends, what a new level is told to and what a takeover moves."""
        return self.filter(status=AgreementStatus.SIGNED).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))

    def current_on(self, day):
        """Signed agreements not ended by `day` (in force now, or starting later) whose provider has a contract in
        force that day for the agreement's town: the people a provider or caregiver still serves."""
        # one filter() each (not a chain of them): the caregivers' scoping builds this on every upload
        contracts = PurchaseContract.objects.filter(
            contract_in_force_q(day, day), provider=models.OuterRef("provider_id"), towns=models.OuterRef("town_id")
        )
        return self.filter(
            Q(status__in=SIGNED_STATUSES) & (Q(end_date__isnull=True) | Q(end_date__gte=day)), models.Exists(contracts)
        )

    def serving_on(self, day):
        """Agreements under which the recipient is served on `day`: the agreement is in force, the recipient is
        in support, and the provider has a purchase contract in force that day for the agreement's town.
        The same three windows decide billing, visit verification and who may see the recipient."""
        contracts = PurchaseContract.objects.in_force_on(day).filter(
            provider=models.OuterRef("provider_id"), towns=models.OuterRef("town_id")
        )
        return self.in_force_on(day).filter(in_support_q(day, day, "recipient__")).filter(models.Exists(contracts))


class Agreement(models.Model):
    """The four-party care agreement (四方照料服务协议): provider, town government, village committee and
    the recipient (or their guardian). It names the caregiver and the level; no service before it is
    signed. `end_date` is the last day covered (inclusive)."""

    number = models.CharField("协议编号", max_length=40, unique=True)
    contract = models.ForeignKey(
        PurchaseContract, verbose_name="购买服务合同", on_delete=models.PROTECT, related_name="agreements"
    )
    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="agreements")
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="agreements")
    village = models.ForeignKey(
        Village, verbose_name="村（居）委会", on_delete=models.PROTECT, related_name="agreements"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="agreements"
    )
    signed_by_guardian = models.BooleanField("由监护人代签", default=False)
    signatory_name = models.CharField("特困人员方签字人", max_length=32)
    caregiver = models.ForeignKey(
        Caregiver, verbose_name="照料护理人", on_delete=models.PROTECT, related_name="agreements"
    )
    level_at_signing = models.CharField("签订时自理能力等级", max_length=16, editable=False)
    start_date = models.DateField("服务开始日期")
    end_date = models.DateField("服务结束日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    provider_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="服务机构签订人", on_delete=models.PROTECT, related_name="+"
    )
    provider_signed_at = models.DateTimeField("服务机构签订时间")
    town_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="镇（街道）签订人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    town_signed_at = models.DateTimeField("镇（街道）签订时间", null=True, blank=True)
    signed_on = models.DateField(
        "协议签订日期", null=True, blank=True, help_text="四方中最后一方签字的日期；协议自开始日期与此日较晚者起生效"
    )
    village_signatory = models.CharField("村（居）委会签字人", max_length=32, blank=True)
    village_signed_on = models.DateField("村（居）委会签字日期", null=True, blank=True)
    recipient_signed_on = models.DateField("特困人员（监护人）签字日期", null=True, blank=True)
    terminated_at = models.DateTimeField("终止时间", null=True, blank=True)
    termination_reason = models.CharField("终止原因", max_length=200, blank=True)
    replaces = models.ForeignKey(
        "self", verbose_name="接替的协议", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = "四方照料服务协议"
        verbose_name_plural = "四方照料服务协议"
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="agreement_term_order",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                violation_error_message="服务结束日期不能早于开始日期。",
            ),
            models.CheckConstraint(
                name="agreement_signed_has_date",
                condition=Q(status="draft") | Q(signed_on__isnull=False),
                violation_error_message="已签订的协议必须有签订日期。",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "start_date"], name="agreement_recipient_start")]

    def __str__(self):
        return f"{self.number} {self.recipient}"

    @property
    def window(self):
        """(first, last) days in force, inclusive (last None: no end); None for an agreement never in force."""
        return agreement_window(self.status, self.start_date, self.signed_on, self.end_date)

    def in_force_on(self, day):
        window = self.window
        return window is not None and window[0] <= day and (window[1] is None or day <= window[1])

    @property
    def missing_signatures(self):
        """The parties (in Chinese) that have not signed yet."""
        missing = []
        if not self.provider_signed_at:
            missing.append("服务机构")
        if not self.village_signed_on or not self.village_signatory:
            missing.append("村（居）委会")
        if not self.recipient_signed_on:
            missing.append("监护人" if self.signed_by_guardian else "特困人员")
        if not self.town_signed_at:
            missing.append("镇（街道）")
        return missing


SIGNED_STATUSES = (AgreementStatus.SIGNED, AgreementStatus.TERMINATED)


def agreement_in_force_q(first, last):
    """The condition of `AgreementQuerySet.in_force_between`, to combine with others in one filter()."""
    return Q(status__in=SIGNED_STATUSES, signed_on__isnull=False, start_date__lte=last, signed_on__lte=last) & (
        Q(end_date__isnull=True) | Q(end_date__gte=first)
    )


def agreement_window(status, start_date, signed_on, end_date):
    if status not in SIGNED_STATUSES or signed_on is None:
        return None
    return max(start_date, signed_on), end_date


def served_pieces(*, within, support, agreement, contracts):
    """The days a recipient is served under one agreement within the inclusive window `within`: where they are in
    support, the agreement is in force, and one of the provider's contracts for the town is in force.

    `support` and `agreement` are (first, last) windows (last None: open; agreement None: never in force);
    `contracts` is [(first, last, contract_id)] (see `contracts.selectors.contract_windows`).
    Returns [(first, last, contract_id)], in date order, without overlaps between contracts."""
    if agreement is None:
        return []
    base = overlap(within, support, agreement)
    if base is None:
        return []
    pieces = []
    covered_until = None
    for c_first, c_last, contract_id in sorted(contracts):
        if covered_until is not None and c_first <= covered_until:
            c_first = covered_until + datetime.timedelta(days=1)
        piece = overlap(base, (c_first, c_last))
        if piece is None:
            continue
        pieces.append((piece[0], piece[1], contract_id))
        covered_until = piece[1] if covered_until is None else max(covered_until, piece[1])
    return pieces


class NoticeKind(models.TextChoices):
    EXIT = "exit", "退出供养，协议终止"
    LEVEL = "level", "等级调整"
    ROSTER = "roster", "月度名单变动"


class ProviderNoticeQuerySet(ScopedQuerySet):
    scope_provider = "provider"

    def unread(self):
        return self.filter(read_at__isnull=True)


class ProviderNotice(models.Model):
    """What the bureau sends a provider (名单变动): the month's list changes for its towns, an exit that ended an
    agreement, a level approved for someone it serves. The provider marks each read."""

    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField("类型", max_length=16, choices=NoticeKind.choices)
    month = models.DateField("月份", null=True, blank=True)
    agreement = models.ForeignKey(
        Agreement, verbose_name="协议", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.CharField("内容", max_length=300)
    details = models.JSONField("明细", default=dict, blank=True)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="阅读人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ProviderNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "名单变动通知"
        verbose_name_plural = "名单变动通知"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["provider", "read_at"], name="notice_provider_unread")]

    def __str__(self):
        return self.message
