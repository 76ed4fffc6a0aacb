"""Serious service-quality problems (严重服务质量问题) reported by towns and verified by the bureau."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import DeductionRule, Provider, PurchaseContract
from recipients.models import Recipient, Town
from shenxian_care.models import Role
from shenxian_care.scoping import ScopedQuerySet, actor_role

from .deductions import Deduction


class ProblemCategory(models.TextChoices):
    QUALITY = "quality", "服务质量问题"
    FALSE_DATA = "false_data", "弄虚作假、虚报数据"
    BREACH = "breach", "不按合同约定履约"
    FALSE_REPORT = "false_report", "虚假报告"

    @classmethod
    def fraud(cls):
        """The categories that, once verified, are a one-vote veto (一票否决) in the half-year review."""
        return [cls.FALSE_DATA, cls.BREACH, cls.FALSE_REPORT]


class ProblemStatus(models.TextChoices):
    REPORTED = "reported", "待查证"
    VERIFIED = "verified", "查证属实"
    REJECTED = "rejected", "查证不属实"


class SeriousProblemReportQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"

    def for_actor(self, user):
        qs = super().for_actor(user)
        if actor_role(user) == Role.PROVIDER:
            # The provider learns of a report once the bureau has verified it, not while it is checked.
            qs = qs.filter(status=ProblemStatus.VERIFIED)
        return qs

    def verified_fraud(self):
        return self.filter(status=ProblemStatus.VERIFIED, category__in=ProblemCategory.fraud())


class SeriousProblemReport(models.Model):
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="serious_problems"
    )
    contract = models.ForeignKey(
        PurchaseContract, verbose_name="合同", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="涉及特困人员", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.CharField("问题类别", max_length=16, choices=ProblemCategory.choices, default="quality")
    occurred_on = models.DateField("发生日期")
    description = models.TextField("问题及证据说明")
    status = models.CharField("状态", max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.REPORTED)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报告人", on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField("报告时间", auto_now_add=True)
    source_complaint = models.ForeignKey(
        "supervision.Complaint",
        verbose_name="来源投诉",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="serious_problems",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="查证人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField("查证时间", null=True, blank=True)
    verified_on = models.DateField("查证日期", null=True, blank=True)
    decision_reason = models.CharField("查证意见", max_length=300, blank=True)
    rule = models.ForeignKey(
        DeductionRule, verbose_name="适用扣款标准", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deduction = models.OneToOneField(
        Deduction, verbose_name="扣款", on_delete=models.PROTECT, null=True, blank=True, related_name="problem"
    )

    objects = SeriousProblemReportQuerySet.as_manager()

    class Meta:
        verbose_name = "严重服务质量问题"
        verbose_name_plural = "严重服务质量问题"
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="seriousproblem_decided_has_reason",
                condition=Q(status="reported") | (~Q(decision_reason="") & Q(verified_on__isnull=False)),
                violation_error_message="查证结论必须有查证意见和日期。",
            ),
        ]
        indexes = [models.Index(fields=["provider", "status"], name="seriousproblem_provider_status")]

    def __str__(self):
        return f"{self.town} {self.provider} {self.occurred_on} {self.get_category_display()}"

    @property
    def is_fraud(self):
        return self.category in ProblemCategory.fraud()


class SeriousProblemPhoto(models.Model):
    report = models.ForeignKey(
        SeriousProblemReport, verbose_name="问题报告", on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField("照片", upload_to="supervision/problems/%Y/%m/")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "问题照片"
        verbose_name_plural = "问题照片"
        ordering = ["report", "pk"]

    def __str__(self):
        return self.image.name
