"""The towns' monthly evaluation (考评) of each provider serving them, on a versioned scoring sheet."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import Provider
from recipients.models import Recipient, Town
from shenxian_care.models import Role
from shenxian_care.scoping import ScopedQuerySet, actor_role


class EvaluationSheetQuerySet(ScopedQuerySet):
    def for_actor(self, user):
        # The scoring sheet is public to every signed-in role: towns fill it, providers are judged by it.
        return self if actor_role(user) is not None else self.none()  # a login with no role: nothing


class EvaluationSheet(models.Model):
    """A version of the scoring sheet (考评表). Once an evaluation has used it, it is frozen; the bureau
    changes the sheet by publishing a new version, so every evaluation keeps the sheet it was scored on."""

    name = models.CharField("考评表名称", max_length=100)
    version = models.PositiveIntegerField("版本号", unique=True)
    is_current = models.BooleanField("当前使用", default=False)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = EvaluationSheetQuerySet.as_manager()

    class Meta:
        verbose_name = "考评表"
        verbose_name_plural = "考评表"
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="evaluationsheet_one_current"
            )
        ]

    def __str__(self):
        return f"{self.name}（第{self.version}版）"


class EvaluationItem(models.Model):
    """One scored item of a sheet: its weight and its maximum score."""

    sheet = models.ForeignKey(EvaluationSheet, verbose_name="考评表", on_delete=models.CASCADE, related_name="items")
    code = models.CharField("编号", max_length=16)
    title = models.CharField("考评项目", max_length=200)
    max_score = models.DecimalField("满分", max_digits=6, decimal_places=2)
    weight = models.DecimalField("权重", max_digits=6, decimal_places=2, default=1)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "考评项目"
        verbose_name_plural = "考评项目"
        ordering = ["sheet", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "code"], name="evaluationitem_unique_code"),
            models.CheckConstraint(name="evaluationitem_max_positive", condition=Q(max_score__gt=0)),
            models.CheckConstraint(name="evaluationitem_weight_positive", condition=Q(weight__gt=0)),
        ]

    def __str__(self):
        return f"{self.code} {self.title}（满分{self.max_score}，权重{self.weight}）"


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", "填写中"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "退回修改"


class EvaluationQuerySet(ScopedQuerySet):
    scope_town = "town"
    scope_provider = "provider"

    def for_actor(self, user):
        qs = super().for_actor(user)
        if actor_role(user) == Role.PROVIDER:
            # A provider reads its evaluations once the town has submitted them, never the drafts.
            qs = qs.filter(status=EvaluationStatus.SUBMITTED)
        return qs


class Evaluation(models.Model):
    """A town's evaluation of one provider for one month (月度考评). Submitted = locked."""

    town = models.ForeignKey(Town, verbose_name="镇（街道）", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="evaluations"
    )
    month = models.DateField("考评月份", help_text="该月第一天")
    sheet = models.ForeignKey(EvaluationSheet, verbose_name="考评表", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT)
    summary = models.TextField("总体评价", blank=True)
    total_score = models.DecimalField("综合得分（百分制）", max_digits=5, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填写人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    returned_reason = models.CharField("退回理由", max_length=300, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="退回人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = "月度考评"
        verbose_name_plural = "月度考评"
        ordering = ["-month", "town__sort_order", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "provider", "month"], name="evaluation_one_per_month"),
            models.CheckConstraint(
                name="evaluation_submitted_has_score",
                condition=~Q(status="submitted") | Q(total_score__isnull=False, submitted_at__isnull=False),
                violation_error_message="已提交的考评必须有综合得分和提交时间。",
            ),
        ]

    def __str__(self):
        return f"{self.town} {self.provider} {self.month:%Y年%m月}考评"

    @property
    def is_locked(self):
        return self.status == EvaluationStatus.SUBMITTED


class EvaluationScore(models.Model):
    evaluation = models.ForeignKey(Evaluation, verbose_name="考评", on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(EvaluationItem, verbose_name="考评项目", on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField("得分", max_digits=6, decimal_places=2)
    note = models.CharField("扣分说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "考评得分"
        verbose_name_plural = "考评得分"
        ordering = ["evaluation", "item__sort_order", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item"], name="evaluationscore_unique_item"),
            models.CheckConstraint(name="evaluationscore_not_negative", condition=Q(score__gte=0)),
        ]

    def __str__(self):
        return f"{self.item.code} {self.score}"


class EvaluationRemark(models.Model):
    """A remark on one recipient's care, where the town has something to say."""

    evaluation = models.ForeignKey(Evaluation, verbose_name="考评", on_delete=models.CASCADE, related_name="remarks")
    recipient = models.ForeignKey(Recipient, verbose_name="特困人员", on_delete=models.PROTECT, related_name="+")
    remark = models.CharField("情况说明", max_length=300)

    class Meta:
        verbose_name = "考评备注（按人）"
        verbose_name_plural = "考评备注（按人）"
        ordering = ["evaluation", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "recipient"], name="evaluationremark_unique_recipient")
        ]

    def __str__(self):
        return f"{self.recipient}：{self.remark[:20]}"
