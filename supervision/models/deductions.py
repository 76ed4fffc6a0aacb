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
