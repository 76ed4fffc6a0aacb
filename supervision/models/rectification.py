"""Rectification notices (整改通知) to providers, and complaints (投诉)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import Provider
from recipients.models import Recipient, Town
from shenxian_care.models import Role
from shenxian_care.scoping import ScopedQuerySet, actor_role


class RectificationSource(models.TextChoices):
    SPOT_CHECK = "spot_check", "抽查"
    SERIOUS_PROBLEM = "serious_problem", "镇（街道）报告的严重服务质量问题"
    COMPLAINT = "complaint", "投诉"
    VISIT_EXCEPTION = "visit_exception", "服务记录异常"
    OTHER = "other", "其他"


class RectificationStatus(models.TextChoices):
    ISSUED = "issued", "待整改"
    ANSWERED = "answered", "已反馈，待核查"
    RETURNED = "returned", "退回重新整改"
    OVERDUE = "overdue", "逾期未整改"
    ACCEPTED = "accepted", "整改完成"


OPEN_RECTIFICATION = (RectificationStatus.ISSUED, RectificationStatus.RETURNED)


class RectificationNoticeQuerySet(ScopedQuerySet):
    scope_provider = "provider"
    scope_town = "town"


class RectificationNotice(models.Model):
    """A notice to a provider to put a problem right by a deadline. `overdue_on` stays set once the notice
    has gone past its deadline unanswered, so the half-year review can count it even after it is fixed."""

    number = models.CharField("通知编号", max_length=24, unique=True)
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="rectification_notices"
    )
    town = models.ForeignKey(
        Town, verbose_name="镇（街道）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="涉及特困人员", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField("来源", max_length=20, choices=RectificationSource.choices)
    spot_check = models.ForeignKey(
        "supervision.SpotCheck",
        verbose_name="来源抽查",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    serious_problem = models.ForeignKey(
        "supervision.SeriousProblemReport",
        verbose_name="来源问题报告",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    complaint = models.ForeignKey(
        "supervision.Complaint",
        verbose_name="来源投诉",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    visit = models.ForeignKey(
        "services.Visit",
        verbose_name="来源服务记录（异常）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    problem = models.TextField("存在问题及整改要求")
    issued_on = models.DateField("下发日期")
    deadline = models.DateField("整改期限")
    status = models.CharField(
        "状态", max_length=16, choices=RectificationStatus.choices, default=RectificationStatus.ISSUED
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="下发人", on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField("整改情况反馈", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="反馈人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField("反馈时间", null=True, blank=True)
    review_reason = models.CharField("核查意见", max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核查人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("核查时间", null=True, blank=True)
    times_returned = models.PositiveSmallIntegerField("退回次数", default=0)
    overdue_on = models.DateField("逾期标记日期", null=True, blank=True)

    objects = RectificationNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "整改通知"
        verbose_name_plural = "整改通知"
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="rectification_deadline_after_issue",
                condition=Q(deadline__gte=models.F("issued_on")),
                violation_error_message="整改期限不能早于下发日期。",
            ),
            models.CheckConstraint(
                name="rectification_overdue_has_date",
                condition=~Q(status="overdue") | Q(overdue_on__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="rectification_status_deadline")]

    def __str__(self):
        return f"{self.number} {self.provider}"


class ComplaintChannel(models.TextChoices):
    HOTLINE_12345 = "hotline_12345", "12345政务服务热线"
    FAMILY = "family", "家属反映"
    RECIPIENT = "recipient", "服务对象本人"
    TOWN = "town", "镇（街道）、村（居）反映"
    OTHER = "other", "其他"


class ComplaintPriority(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"


class ComplaintRoute(models.TextChoices):
    TOWN = "town", "转镇（街道）办理"
    PROVIDER = "provider", "转服务机构办理"


class ComplaintStatus(models.TextChoices):
    OPEN = "open", "办理中"
    ANSWERED = "answered", "已答复，待办结"
    CLOSED = "closed", "已办结"


class ComplaintQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"

    def for_actor(self, user):
        qs = super().for_actor(user)
        if actor_role(user) == Role.PROVIDER:
            # A provider sees only what was routed to it, not complaints the town handles about it.
            qs = qs.filter(route_to=ComplaintRoute.PROVIDER)
        return qs


class Complaint(models.Model):
    number = models.CharField("投诉编号", max_length=24, unique=True)
    channel = models.CharField("渠道", max_length=16, choices=ComplaintChannel.choices)
    priority = models.CharField(
        "优先级", max_length=8, choices=ComplaintPriority.choices, default=ComplaintPriority.NORMAL
    )
    received_on = models.DateField("受理日期")
    due_date = models.DateField("办理期限")
    complainant_name = models.CharField("投诉人", max_length=32, blank=True)
    complainant_phone = models.CharField("联系电话", max_length=20, blank=True)
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name="涉及特困人员", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content = models.TextField("投诉内容")
    route_to = models.CharField("转办至", max_length=16, choices=ComplaintRoute.choices)
    status = models.CharField("状态", max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField("登记时间", auto_now_add=True)
    answer = models.TextField("办理答复", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="答复人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    founded = models.BooleanField("投诉属实", null=True, blank=True)
    close_note = models.CharField("办结意见", max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办结人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = "投诉"
        verbose_name_plural = "投诉"
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="complaint_provider_route_has_provider",
                condition=~Q(route_to="provider") | Q(provider__isnull=False),
                violation_error_message="转服务机构办理的投诉必须指定服务机构。",
            ),
            models.CheckConstraint(
                name="complaint_due_after_received", condition=Q(due_date__gte=models.F("received_on"))
            ),
            models.CheckConstraint(
                name="complaint_closed_has_finding",
                condition=~Q(status="closed") | Q(founded__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.get_channel_display()}"
