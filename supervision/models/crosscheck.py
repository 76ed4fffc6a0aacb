"""Data cross-check (数据比对) against lists of deaths and cancelled household registrations."""

from django.conf import settings
from django.db import models

from recipients.models import Recipient, SupportExit
from shenxian_care.scoping import ScopedQuerySet


class CrossCheckEvent(models.TextChoices):
    DEATH = "death", "死亡"
    CANCELLED = "cancelled", "户籍注销"


class CrossCheckBatchQuerySet(ScopedQuerySet):
    pass  # bureau only


class CrossCheckBatch(models.Model):
    file_name = models.CharField("文件名", max_length=200)
    file_sha256 = models.CharField("文件摘要", max_length=64)
    source = models.CharField("数据来源", max_length=100, blank=True, help_text="如：县公安局、殡葬管理所")
    row_count = models.PositiveIntegerField("名单行数")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    objects = CrossCheckBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "数据比对批次"
        verbose_name_plural = "数据比对批次"
        ordering = ["-imported_at", "-pk"]

    def __str__(self):
        return f"{self.file_name}（{self.imported_at:%Y-%m-%d}）"


class CrossCheckHitStatus(models.TextChoices):
    FLAGGED = "flagged", "待核实"
    CONFIRMED = "confirmed", "已确认退出"
    DISMISSED = "dismissed", "核实不符"


class CrossCheckHitQuerySet(ScopedQuerySet):
    scope_town = "recipient__town"


class CrossCheckHit(models.Model):
    """A recipient in support who appears on the list; visits logged after the date are a fraud signal."""

    batch = models.ForeignKey(CrossCheckBatch, verbose_name="比对批次", on_delete=models.CASCADE, related_name="hits")
    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="+")
    row_number = models.PositiveIntegerField("名单行号")
    listed_name = models.CharField("名单姓名", max_length=32, blank=True)
    event = models.CharField("情形", max_length=16, choices=CrossCheckEvent.choices)
    event_date = models.DateField("死亡/注销日期")
    visits_after = models.PositiveIntegerField("该日期后的服务记录数", default=0)
    status = models.CharField(
        "状态", max_length=16, choices=CrossCheckHitStatus.choices, default=CrossCheckHitStatus.FLAGGED
    )
    support_exit = models.ForeignKey(
        SupportExit, verbose_name="退出供养记录", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    note = models.CharField("处理说明", max_length=300, blank=True)

    objects = CrossCheckHitQuerySet.as_manager()

    class Meta:
        verbose_name = "数据比对疑点"
        verbose_name_plural = "数据比对疑点"
        ordering = ["batch", "row_number"]
        constraints = [models.UniqueConstraint(fields=["batch", "recipient"], name="crosscheckhit_unique_recipient")]

    def __str__(self):
        return f"{self.recipient} {self.get_event_display()} {self.event_date}"
