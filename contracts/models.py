from django.conf import settings
from django.db import models
from django.db.models import Q

from recipients.models import Recipient, Town, Village
from shenxian_care.crypto import digest
from shenxian_care.fields import DigestField, EncryptedTextField, MaskedIdField
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

    def active_on(self, day):
        return self.filter(status=ContractStatus.ACTIVE, start_date__lte=day, end_date__gte=day)


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
    terminated_on = models.DateField("终止日期", null=True, blank=True)
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


class DeductionRuleQuerySet(ScopedQuerySet):
    scope_provider = "contract__provider"
    scope_town = "contract__towns"
    scope_finance_all = True


class DeductionRule(models.Model):
    """A line of the contract's deduction schedule (扣款标准): what a verified problem costs."""

    contract = models.ForeignKey(
        PurchaseContract, verbose_name="合同", on_delete=models.CASCADE, related_name="deduction_rules"
    )
    code = models.CharField("编号", max_length=16)
    description = models.CharField("情形", max_length=200)
    amount = models.DecimalField("扣款金额（元）", max_digits=12, decimal_places=2)

    objects = DeductionRuleQuerySet.as_manager()

    class Meta:
        verbose_name = "扣款标准"
        verbose_name_plural = "扣款标准"
        ordering = ["contract", "code"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="deductionrule_unique_code"),
            models.CheckConstraint(name="deductionrule_amount_positive", condition=Q(amount__gt=0)),
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

    def covering(self, day):
        """Signed agreements whose term covers `day` (terminated ones count up to their end date)."""
        return self.filter(status__in=[AgreementStatus.SIGNED, AgreementStatus.TERMINATED], start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )


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
    signed_on = models.DateField("协议签订日期", null=True, blank=True)
    village_signatory = models.CharField("村（居）委会签字人", max_length=32, blank=True)
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

    def covers(self, day):
        return (
            self.status != AgreementStatus.DRAFT
            and self.start_date <= day
            and (self.end_date is None or day <= self.end_date)
        )
