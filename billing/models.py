"""Monthly settlements: lines per recipient and provider, provider totals, deductions applied, payments.

A settlement is one row per month. While it is a draft it may be recomputed (the lines are replaced);
once confirmed it is frozen, and later corrections appear as adjustment lines in the next open month.
Supervision's deductions are read, never written: what was applied where is recorded here.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import Caregiver, PayeeMode, Provider, PurchaseContract
from recipients.models import CareLevel, Recipient, Town
from shenxian_care.fields import EncryptedTextField
from shenxian_care.money import quantize_fen
from shenxian_care.scoping import ScopedQuerySet
from supervision.models import Deduction

MONEY = {"max_digits": 12, "decimal_places": 2}


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    CONFIRMED = "confirmed", "已确认（冻结）"
    PAID = "paid", "已支付"


class RunState(models.TextChoices):
    IDLE = "idle", "未计算"
    RUNNING = "running", "计算中"
    DONE = "done", "计算完成"
    FAILED = "failed", "计算失败"


class SettlementQuerySet(ScopedQuerySet):
    # A provider sees the months it is part of (its own figures come from ProviderSettlement);
    # town officials see no settlement (the money is between the bureau and the providers).
    scope_provider = "provider_totals__provider"
    scope_finance_all = True


class Settlement(models.Model):
    """A month's settlement (月度结算单). Also the per-month row the computation locks."""

    month = models.DateField("结算月份", unique=True, help_text="该月第一天")
    status = models.CharField("状态", max_length=16, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT)
    rate_self_care = models.DecimalField("自理标准（元/月）", null=True, blank=True, **MONEY)
    rate_partial = models.DecimalField("半失能标准（元/月）", null=True, blank=True, **MONEY)
    rate_full = models.DecimalField("失能标准（元/月）", null=True, blank=True, **MONEY)
    gross = models.DecimalField("应付金额（元）", default=0, **MONEY)
    deductions_applied = models.DecimalField("本月扣款（元）", default=0, **MONEY)
    carried_forward = models.DecimalField("结转下月扣款（元）", default=0, **MONEY)
    net = models.DecimalField("实付金额（元）", default=0, **MONEY)
    line_count = models.PositiveIntegerField("明细条数", default=0)
    adjustment_count = models.PositiveIntegerField("调整条数", default=0)
    run_state = models.CharField("计算状态", max_length=16, choices=RunState.choices, default=RunState.IDLE)
    progress_done = models.PositiveIntegerField("已处理人数", default=0)
    progress_total = models.PositiveIntegerField("应处理人数", default=0)
    run_started_at = models.DateTimeField("开始计算时间", null=True, blank=True)
    run_finished_at = models.DateTimeField("完成计算时间", null=True, blank=True)
    run_error = models.CharField("计算错误", max_length=300, blank=True)
    rerun_requested = models.BooleanField("计算中收到重新计算请求", default=False)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="计算人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="支付登记人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    paid_at = models.DateTimeField("支付时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = SettlementQuerySet.as_manager()

    class Meta:
        verbose_name = "月度结算"
        verbose_name_plural = "月度结算"
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(name="settlement_month_first_day", condition=Q(month__day=1)),
            models.CheckConstraint(
                name="settlement_confirmed_has_time",
                condition=Q(status="draft") | Q(confirmed_at__isnull=False),
            ),
            models.CheckConstraint(name="settlement_net_not_negative", condition=Q(net__gte=0)),
        ]

    def __str__(self):
        return f"{self.month:%Y年%m月}结算（{self.get_status_display()}）"

    @property
    def is_frozen(self):
        return self.status != SettlementStatus.DRAFT

    @property
    def progress_percent(self):
        if not self.progress_total:
            return 100 if self.run_state == RunState.DONE else 0
        return min(100, self.progress_done * 100 // self.progress_total)


class ProviderSettlementQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_finance_all = True


class ProviderSettlement(models.Model):
    """A provider's month: gross, deductions due and applied, what carries forward, net.

    Never below zero: deductions apply only up to the gross; the rest carries to the next month. If
    adjustments make the gross negative, the shortfall (`deficit_carried`) is recovered next month.
    """

    settlement = models.ForeignKey(
        Settlement, verbose_name="月度结算", on_delete=models.CASCADE, related_name="provider_totals"
    )
    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(
        PurchaseContract, verbose_name="合同", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payee_mode = models.CharField("资金结算方式", max_length=16, choices=PayeeMode.choices, default=PayeeMode.PROVIDER)
    recipients = models.PositiveIntegerField("服务人数", default=0)
    days = models.IntegerField("服务人天", default=0)
    gross = models.DecimalField("应付金额（元）", default=0, **MONEY)
    deficit_brought = models.DecimalField("上月待抵减（元）", default=0, **MONEY)
    deductions_due = models.DecimalField("应扣款（元）", default=0, **MONEY)
    deductions_applied = models.DecimalField("本月扣款（元）", default=0, **MONEY)
    carried_forward = models.DecimalField("结转下月扣款（元）", default=0, **MONEY)
    deficit_carried = models.DecimalField("结转下月待抵减（元）", default=0, **MONEY)
    net = models.DecimalField("实付金额（元）", default=0, **MONEY)

    objects = ProviderSettlementQuerySet.as_manager()

    class Meta:
        verbose_name = "服务机构结算"
        verbose_name_plural = "服务机构结算"
        ordering = ["settlement", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "provider"], name="providersettlement_unique"),
            models.CheckConstraint(name="providersettlement_net_not_negative", condition=Q(net__gte=0)),
        ]

    def __str__(self):
        return f"{self.settlement} {self.provider}"


class LineKind(models.TextChoices):
    REGULAR = "regular", "本月"
    ADJUSTMENT = "adjustment", "以前月份调整"
    HELD = "held", "待处理追溯（超出追溯期限，不计入本月）"


class SettlementLineQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_finance_all = True

    def billed(self):
        """The lines that make up the month's money (待处理追溯 lines are listed, not paid)."""
        return self.exclude(kind=LineKind.HELD)


class SettlementLine(models.Model):
    """One recipient's month with one provider: days at each level, the amount rounded once.

    An adjustment line corrects a frozen month (`period_month`); `corrects` is the frozen line, when
    there was one. Its days and amount are the difference (may be negative).
    """

    # Half a million rows a month at province scale: only the indexes the reads use (each costs on
    # every COPY). Lookups by settlement go through the unique constraint and the composite indexes.
    # No database foreign keys (`db_constraint=False`): PostgreSQL checks a foreign key row by row, seven
    # look-ups a line at commit, most of a province month's time. The settlement run checks every reference
    # of the lines it wrote in one statement before it commits (`billing.persistence.check_references`), and
    # Django's PROTECT still refuses to delete what a line names; the lines are written by that run only.
    settlement = models.ForeignKey(
        Settlement,
        verbose_name="月度结算",
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField("类型", max_length=16, choices=LineKind.choices, default=LineKind.REGULAR)
    period_month = models.DateField("所属月份")
    recipient = models.ForeignKey(
        Recipient,
        verbose_name="特困人员",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    town = models.ForeignKey(
        Town,
        verbose_name="镇（街道）",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name="服务机构",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    contract = models.ForeignKey(
        PurchaseContract,
        verbose_name="合同",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    caregiver = models.ForeignKey(
        Caregiver,
        verbose_name="照料护理人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    level = models.CharField("自理能力（月末）", max_length=16, choices=CareLevel.choices)
    rate = models.DecimalField("标准（元/月）", **MONEY)
    days = models.IntegerField("天数")
    days_self_care = models.IntegerField("自理天数", default=0)
    days_partial = models.IntegerField("半失能天数", default=0)
    days_full = models.IntegerField("失能天数", default=0)
    caregiver_days = models.JSONField("护理人服务天数", default=dict)
    amount = models.DecimalField("金额（元）", **MONEY)
    corrects = models.ForeignKey(
        "self",
        verbose_name="更正的已冻结明细",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    objects = SettlementLineQuerySet.as_manager()

    class Meta:
        verbose_name = "结算明细"
        verbose_name_plural = "结算明细"
        ordering = ["settlement", "kind", "recipient_id", "provider_id", "period_month"]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "recipient", "provider", "period_month"], name="settlementline_unique"
            ),
            models.CheckConstraint(
                name="settlementline_regular_is_own_month",
                condition=Q(kind__in=["adjustment", "held"]) | Q(corrects__isnull=True),
            ),
        ]
        indexes = [
            models.Index(fields=["settlement", "provider"], name="line_settlement_provider"),
            models.Index(fields=["settlement", "town"], name="line_settlement_town"),
            models.Index(fields=["period_month", "recipient", "provider"], name="line_period_recipient"),
            # Deleting a draft line checks that no adjustment corrects it: keep that lookup indexed, small.
            models.Index(fields=["corrects"], condition=Q(corrects__isnull=False), name="line_corrects"),
        ]

    def __str__(self):
        return f"{self.settlement} {self.recipient_id} {self.amount}"


class DeductionApplicationQuerySet(ScopedQuerySet):
    scope_provider = "provider_settlement__provider"
    scope_finance_all = True


class DeductionApplication(models.Model):
    """How much of a verified deduction a provider's month absorbed, and what it carried forward."""

    settlement = models.ForeignKey(
        Settlement, verbose_name="月度结算", on_delete=models.CASCADE, related_name="deduction_applications"
    )
    provider_settlement = models.ForeignKey(
        ProviderSettlement, verbose_name="服务机构结算", on_delete=models.CASCADE, related_name="applications"
    )
    deduction = models.ForeignKey(Deduction, verbose_name="扣款", on_delete=models.PROTECT, related_name="+")
    amount_due = models.DecimalField("待扣金额（元）", **MONEY)
    amount_applied = models.DecimalField("本月扣除（元）", **MONEY)
    amount_carried = models.DecimalField("结转下月（元）", **MONEY)

    objects = DeductionApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "扣款执行记录"
        verbose_name_plural = "扣款执行记录"
        ordering = ["settlement", "deduction__verified_on", "deduction_id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "deduction"], name="deductionapplication_unique"),
            # due = applied + carried holds by construction; not a CHECK because SQLite compares as floats.
            models.CheckConstraint(
                name="deductionapplication_carried_not_negative", condition=Q(amount_carried__gte=0)
            ),
            models.CheckConstraint(
                name="deductionapplication_applied_not_negative",
                condition=Q(amount_applied__gte=0) | Q(amount_due__lt=0, amount_applied=models.F("amount_due")),
            ),
        ]

    def __str__(self):
        return f"{self.deduction} → {self.amount_applied}"


class PayeeKind(models.TextChoices):
    PROVIDER = "provider", "服务机构"
    CAREGIVER = "caregiver", "照料护理人"


class PaymentQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_finance_all = True


class Payment(models.Model):
    """One transfer on the month's payment list (支付清单), to a provider's or a caregiver's account."""

    settlement = models.ForeignKey(
        Settlement, verbose_name="月度结算", on_delete=models.CASCADE, related_name="payments"
    )
    provider_settlement = models.ForeignKey(
        ProviderSettlement, verbose_name="服务机构结算", on_delete=models.CASCADE, related_name="payments"
    )
    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="+")
    payee_kind = models.CharField("收款方类型", max_length=16, choices=PayeeKind.choices)
    caregiver = models.ForeignKey(
        Caregiver, verbose_name="照料护理人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payee_name = models.CharField("收款人", max_length=100)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    account_number = EncryptedTextField("银行账号", blank=True)
    days = models.IntegerField("服务人天", default=0)
    amount = models.DecimalField("金额（元）", **MONEY)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "支付清单"
        verbose_name_plural = "支付清单"
        ordering = ["settlement", "provider_id", "payee_kind", "caregiver_id"]
        constraints = [
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="payment_caregiver_when_caregiver_payee",
                condition=Q(payee_kind="provider", caregiver__isnull=True)
                | Q(payee_kind="caregiver", caregiver__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.payee_name} {self.amount}"

    @property
    def paid(self) -> Decimal:
        """What the finance bureau has recorded as paid against this payment (prefetch `records` for a list).
        Summed in Python on exact Decimals: SQLite would sum money as floats."""
        return quantize_fen(sum((record.amount for record in self.records.all()), Decimal("0.00")))


class PaymentRecordQuerySet(ScopedQuerySet):
    scope_provider = "payment__provider"
    scope_finance_all = True


class PaymentRecord(models.Model):
    """The finance bureau's record of money paid against one line of the payment list: the date paid and the
    voucher number (凭证号). A payment may be paid in parts; the month is 已支付 once every payment is paid in full.
    Kept beside the frozen payment list, which never changes."""

    payment = models.ForeignKey(Payment, verbose_name="支付清单", on_delete=models.PROTECT, related_name="records")
    paid_on = models.DateField("支付日期")
    voucher_number = models.CharField("凭证号", max_length=40)
    amount = models.DecimalField("支付金额（元）", **MONEY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = PaymentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "支付登记"
        verbose_name_plural = "支付登记"
        ordering = ["payment", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(name="paymentrecord_amount_positive", condition=Q(amount__gt=0)),
            models.UniqueConstraint(fields=["payment", "voucher_number"], name="paymentrecord_one_voucher_per_payment"),
        ]

    def __str__(self):
        return f"{self.voucher_number} {self.amount}"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "待决定"
    ACCEPTED = "accepted", "确认扣款"
    WAIVED = "waived", "免予扣款"


class ProposalKind(models.TextChoices):
    MISSED_VISITS = "missed_visits", "标准上门服务不足"
    LOW_EVALUATION = "low_evaluation", "月度考评低于分数线"
    NO_VISITS = "no_visits", "本月没有任何上门服务记录"


class DeductionProposalQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_finance_all = True

    def undecided(self):
        return self.filter(status=ProposalStatus.PROPOSED)


class DeductionProposal(models.Model):
    """A deduction the settlement proposes from the month's evidence (visits against the standard, the towns'
    evaluations), with that evidence. The bureau accepts it (it becomes a verified deduction of this month) or
    waives it with a reason, before the month can be confirmed. Decisions survive recomputation."""

    settlement = models.ForeignKey(
        Settlement, verbose_name="月度结算", on_delete=models.CASCADE, related_name="proposals"
    )
    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=20, choices=ProposalKind.choices)
    key = models.CharField("建议标识", max_length=80)
    rule = models.ForeignKey(
        "contracts.DeductionRule",
        verbose_name="扣款标准",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField("建议扣款（元）", **MONEY)
    evidence = models.JSONField("依据", default=dict)
    status = models.CharField("状态", max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    decision_reason = models.CharField("决定理由", max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    deduction = models.OneToOneField(
        Deduction, verbose_name="扣款", on_delete=models.PROTECT, null=True, blank=True, related_name="proposal"
    )

    objects = DeductionProposalQuerySet.as_manager()

    class Meta:
        verbose_name = "扣款建议"
        verbose_name_plural = "扣款建议"
        ordering = ["settlement", "provider_id", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "key"], name="deductionproposal_unique_key"),
            models.CheckConstraint(name="deductionproposal_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="deductionproposal_waived_has_reason",
                condition=~Q(status="waived") | ~Q(decision_reason=""),
                violation_error_message="免予扣款须填写理由。",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.get_kind_display()} {self.amount}"
