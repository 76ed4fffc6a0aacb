"""The half-year review of each provider (退出机制) and the takeover plan (接管预案)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import Agreement, Caregiver, Provider
from recipients.models import Recipient, Town
from shenxian_care.scoping import ScopedQuerySet


class ReviewDecision(models.TextChoices):
    CONTINUE = "continue", "继续履约"
    CONTINUE_RECTIFY = "continue_rectify", "限期整改后继续履约"
    TERMINATE = "terminate", "终止合同"


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "待决定"
    DECIDED = "decided", "已决定"


class HalfYearReviewQuerySet(ScopedQuerySet):
    pass  # bureau only


class HalfYearReview(models.Model):
    """One provider's scorecard for one half year, with the figures that made it. Rebuilt while undecided;
    frozen once the bureau decides."""

    provider = models.ForeignKey(Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="reviews")
    half = models.CharField("半年度", max_length=6, help_text="如 2026H1")
    period_start = models.DateField("评估期起")
    period_end = models.DateField("评估期止")
    figures = models.JSONField("评估数据", default=dict)
    evaluation_average = models.DecimalField("月度考评平均分", max_digits=5, decimal_places=2, null=True, blank=True)
    veto = models.BooleanField("一票否决", default=False)
    veto_reasons = models.JSONField("一票否决事由", default=list, blank=True)
    proposal = models.CharField("系统建议", max_length=20, choices=ReviewDecision.choices)
    proposal_reasons = models.JSONField("建议理由", default=list, blank=True)
    status = models.CharField("状态", max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    decision = models.CharField("决定", max_length=20, choices=ReviewDecision.choices, blank=True)
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
    built_at = models.DateTimeField("生成时间")
    build_count = models.PositiveIntegerField("生成次数", default=1)

    objects = HalfYearReviewQuerySet.as_manager()

    class Meta:
        verbose_name = "半年评估"
        verbose_name_plural = "半年评估"
        ordering = ["-period_start", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "half"], name="halfyearreview_one_per_half"),
            models.CheckConstraint(
                name="halfyearreview_veto_only_terminate",
                condition=~Q(veto=True, status="decided") | Q(decision="terminate"),
                violation_error_message="一票否决的服务机构只能终止合同。",
            ),
            models.CheckConstraint(
                name="halfyearreview_decided_has_decision",
                condition=~Q(status="decided") | ~Q(decision=""),
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.half} 半年评估"


class TakeoverStatus(models.TextChoices):
    PENDING = "pending", "办理中"
    DONE = "done", "已完成"
    FAILED = "failed", "未执行（有协议无法移交）"


class TakeoverQuerySet(ScopedQuerySet):
    scope_provider = "new_provider"


class Takeover(models.Model):
    """The handover of every recipient of a terminated provider to a takeover provider (接管预案)."""

    review = models.OneToOneField(
        HalfYearReview,
        verbose_name="半年评估",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="takeover",
    )
    old_provider = models.ForeignKey(Provider, verbose_name="原服务机构", on_delete=models.PROTECT, related_name="+")
    new_provider = models.ForeignKey(Provider, verbose_name="接管服务机构", on_delete=models.PROTECT, related_name="+")
    takeover_date = models.DateField("接管日期", help_text="原协议前一日终止，新协议当日生效")
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="办理人", on_delete=models.PROTECT, related_name="+"
    )
    executed_at = models.DateTimeField("办理时间", auto_now_add=True)
    status = models.CharField("状态", max_length=16, choices=TakeoverStatus.choices, default=TakeoverStatus.DONE)
    caregiver_choices = models.JSONField("指定的照料护理人（镇ID→护理人ID）", default=dict, blank=True)
    report = models.JSONField("移交报告（逐人）", default=list)
    errors = models.JSONField("无法移交的原因", default=list, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = TakeoverQuerySet.as_manager()

    class Meta:
        verbose_name = "接管"
        verbose_name_plural = "接管"
        ordering = ["-executed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="takeover_different_provider", condition=~Q(old_provider=models.F("new_provider"))
            )
        ]

    def __str__(self):
        return f"{self.old_provider} → {self.new_provider}（{self.takeover_date}）"


class TakeoverLine(models.Model):
    takeover = models.ForeignKey(Takeover, verbose_name="接管", on_delete=models.CASCADE, related_name="lines")
    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    old_agreement = models.ForeignKey(Agreement, verbose_name="原协议", on_delete=models.PROTECT, related_name="+")
    new_agreement = models.ForeignKey(Agreement, verbose_name="新协议", on_delete=models.PROTECT, related_name="+")
    caregiver = models.ForeignKey(Caregiver, verbose_name="新照料护理人", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "接管明细"
        verbose_name_plural = "接管明细"
        ordering = ["takeover", "town__sort_order", "recipient__name"]
        constraints = [models.UniqueConstraint(fields=["takeover", "recipient"], name="takeoverline_unique_recipient")]

    def __str__(self):
        return f"{self.recipient}：{self.old_agreement.number} → {self.new_agreement.number}"
