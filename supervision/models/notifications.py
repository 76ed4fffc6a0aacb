"""Reminders shown in the portal (there is no e-mail or SMS gateway)."""

from django.db import models
from django.db.models import Q

from contracts.models import Provider
from recipients.models import Town
from shenxian_care.scoping import ScopedQuerySet


class NotificationKind(models.TextChoices):
    EVALUATION_MISSING = "evaluation_missing", "月度考评未提交"
    RECTIFICATION_OVERDUE = "rectification_overdue", "整改通知已逾期"


class NotificationQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A reminder addressed to a town or a provider. One per subject: reminding again bumps the count."""

    kind = models.CharField("类型", max_length=32, choices=NotificationKind.choices)
    town = models.ForeignKey(
        Town, verbose_name="镇（街道）", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject_key = models.CharField("事项标识", max_length=64)
    message = models.CharField("内容", max_length=300)
    times_sent = models.PositiveIntegerField("提醒次数", default=1)
    created_at = models.DateTimeField("首次提醒时间", auto_now_add=True)
    last_sent_at = models.DateTimeField("最近提醒时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "提醒"
        verbose_name_plural = "提醒"
        ordering = ["-last_sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_key"], name="notification_one_per_subject"),
            models.CheckConstraint(
                name="notification_has_addressee", condition=Q(town__isnull=False) | Q(provider__isnull=False)
            ),
        ]

    def __str__(self):
        return self.message
