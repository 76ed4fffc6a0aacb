from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import DeductionRule, Provider, PurchaseContract
from recipients.models import Recipient, Town
from shenxian_care.scoping import ScopedQuerySet


class DeductionSource(models.TextChoices):
    SERIOUS_PROBLEM = "serious_problem", "严重服务质量问题（查证属实）"
    SPOT_CHECK = "spot_check", "抽查发现问题"
    REVIEW = "review", "半年评估"
    EVIDENCE = "evidence", "按当月服务与考评结果（结算建议，经民政局确认）"
    OTHER = "other", "其他"


class DeductionStatus(models.TextChoices):
    VERIFIED = "verified", "已查证，待扣除"
    CANCELLED = "cancelled", "已撤销"


class DeductionQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_town = "town"
    scope_finance_all = True

    def verified_in_month(self, month_start, next_month_start):
        return self.filter(
            status=DeductionStatus.VERIFIED, verified_on__gte=month_start, verified_on__lt=next_month_start
        )


class Deduction(models.Model):
    """A verified deduction from a provider's fee (扣除第三方服务机构相关费用).

    It is applied in the settlement of the month in which it was verified; what a month cannot absorb
    carries forward (billing keeps that record, so this app never needs to know about settlements).
    """

    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="deductions")
    contract = models.ForeignKey(
        PurchaseContract, verbose_name="合同", on_delete=models.PROTECT, related_name="deductions"
    )
    rule = models.ForeignKey(
        DeductionRule, verbose_name="扣款标准", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    town = models.ForeignKey(
        Town, verbose_name="镇（街道）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="特困人员", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField("来源", max_length=32, choices=DeductionSource.choices)
    amount = models.DecimalField("扣款金额（元）", max_digits=12, decimal_places=2)
    reason = models.CharField("扣款事由", max_length=300)
    amount_changed_reason = models.CharField("调整金额理由", max_length=300, blank=True)
    verified_on = models.DateField("查证日期")
    status = models.CharField("状态", max_length=16, choices=DeductionStatus.choices, default=DeductionStatus.VERIFIED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = DeductionQuerySet.as_manager()

    class Meta:
        verbose_name = "扣款"
        verbose_name_plural = "扣款"
        ordering = ["-verified_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="deduction_amount_positive",
                condition=Q(amount__gt=0),
                violation_error_message="扣款金额必须大于0。",
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.amount}元 {self.verified_on}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", "待复核"
    APPROVED = "approved", "已复核生效"
    REJECTED = "rejected", "复核未通过"


class DeductionCorrectionQuerySet(ScopedQuerySet):
    scope_provider = "deduction__provider"
    scope_finance_all = True

    def pending(self):
        return self.filter(status=CorrectionStatus.PENDING)


class DeductionCorrection(models.Model):
    """A request to cancel a verified deduction or change its amount, with a reason; it takes effect only when a
    second bureau user approves it (maker-checker). Money already deducted in a frozen month comes back as a
    credit in the next month settled (billing), never as a change to the frozen month."""

    deduction = models.ForeignKey(Deduction, verbose_name="扣款", on_delete=models.PROTECT, related_name="corrections")
    new_amount = models.DecimalField(
        "更正后金额（元）", max_digits=12, decimal_places=2, null=True, blank=True, help_text="留空表示撤销该扣款"
    )
    reason = models.CharField("申请理由", max_length=300)
    status = models.CharField("状态", max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_reason = models.CharField("复核意见", max_length=300, blank=True)

    objects = DeductionCorrectionQuerySet.as_manager()

    class Meta:
        verbose_name = "扣款更正"
        verbose_name_plural = "扣款更正"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="deductioncorrection_amount_positive",
                condition=Q(new_amount__isnull=True) | Q(new_amount__gt=0),
                violation_error_message="更正后金额必须大于0；撤销请留空。",
            ),
            models.CheckConstraint(
                name="deductioncorrection_checker_is_not_maker",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                violation_error_message="复核人不能是申请人。",
            ),
            models.UniqueConstraint(
                fields=["deduction"], condition=Q(status="pending"), name="deductioncorrection_one_pending"
            ),
        ]

    def __str__(self):
        what = "撤销" if self.new_amount is None else f"更正为{self.new_amount}元"
        return f"{self.deduction} {what}"

    @property
    def is_cancel(self):
        return self.new_amount is None
