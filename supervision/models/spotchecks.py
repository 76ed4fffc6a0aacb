"""Spot checks (抽查): a reproducible random draw, and each check's record."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import Provider
from recipients.models import CareLevel, Recipient, Town
from shenxian_care.scoping import ScopedQuerySet


class SpotCheckDrawQuerySet(ScopedQuerySet):
    pass  # bureau only


class SpotCheckDraw(models.Model):
    """A recorded random draw. The population (sorted recipient ids) and the seed are stored, so anyone can
    redraw and get the same sample (`supervision.selectors.spotchecks.redraw`)."""

    drawn_on = models.DateField("抽样基准日")
    town = models.ForeignKey(
        Town, verbose_name="镇（街道）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    level = models.CharField("自理能力等级", max_length=16, choices=CareLevel.choices, blank=True)
    size = models.PositiveIntegerField("抽样人数", null=True, blank=True)
    percentage = models.DecimalField("抽样比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    seed = models.BigIntegerField("随机种子")
    population = models.JSONField("抽样总体（特困人员ID）", default=list)
    sample = models.JSONField("抽中（特困人员ID）", default=list)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="抽样人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("抽样时间", auto_now_add=True)

    objects = SpotCheckDrawQuerySet.as_manager()

    class Meta:
        verbose_name = "抽查抽样"
        verbose_name_plural = "抽查抽样"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="spotcheckdraw_size_or_percentage",
                condition=(Q(size__isnull=False) & Q(percentage__isnull=True))
                | (Q(size__isnull=True) & Q(percentage__isnull=False)),
                violation_error_message="请填写抽样人数或抽样比例（二选一）。",
            )
        ]

    def __str__(self):
        return f"{self.drawn_on} 抽样{len(self.sample)}/{len(self.population)}人"


class SpotCheckMethod(models.TextChoices):
    ONSITE = "onsite", "现场检查"
    PLATFORM = "platform", "平台监测"
    PHONE = "phone", "电话回访"


class SpotCheckResult(models.TextChoices):
    OK = "ok", "未发现问题"
    PROBLEM = "problem", "发现问题"


class SpotCheckQuerySet(ScopedQuerySet):
    scope_town = "town"


class SpotCheck(models.Model):
    draw = models.ForeignKey(
        SpotCheckDraw, verbose_name="抽样", on_delete=models.PROTECT, null=True, blank=True, related_name="checks"
    )
    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, null=True, blank=True, related_name="spot_checks"
    )
    method = models.CharField("检查方式", max_length=16, choices=SpotCheckMethod.choices)
    checked_on = models.DateField("检查日期")
    result = models.CharField("检查结果", max_length=16, choices=SpotCheckResult.choices)
    finding = models.TextField("检查情况", blank=True)
    answers = models.JSONField("电话回访问答", default=dict, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="检查人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = SpotCheckQuerySet.as_manager()

    class Meta:
        verbose_name = "抽查记录"
        verbose_name_plural = "抽查记录"
        ordering = ["-checked_on", "-pk"]
        indexes = [models.Index(fields=["provider", "checked_on"], name="spotcheck_provider_day")]

    def __str__(self):
        return f"{self.checked_on} {self.get_method_display()} {self.recipient}"
