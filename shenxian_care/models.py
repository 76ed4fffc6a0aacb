from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    BUREAU = "bureau", "县民政局工作人员"
    FINANCE = "finance", "县财政局"
    TOWN = "town", "镇（街道）工作人员"
    PROVIDER = "provider", "服务机构工作人员"
    CAREGIVER = "caregiver", "照料护理人"


class User(AbstractUser):
    """A portal login. The role decides what the person may see (see `shenxian_care.scoping`)."""

    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.BUREAU)
    town = models.ForeignKey(
        "recipients.Town",
        verbose_name="所属镇（街道）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officials",
    )
    provider = models.ForeignKey(
        "contracts.Provider",
        verbose_name="所属服务机构",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    phone = models.CharField("手机号", max_length=20, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="user_town_role_has_town",
                condition=~Q(role="town") | Q(town__isnull=False),
                violation_error_message="镇（街道）工作人员必须指定所属镇（街道）。",
            ),
            models.CheckConstraint(
                name="user_provider_role_has_provider",
                condition=~Q(role="provider") | Q(provider__isnull=False),
                violation_error_message="服务机构工作人员必须指定所属服务机构。",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        # Chinese names: family name first, no space.
        return f"{self.last_name}{self.first_name}".strip()


class SecurityEventKind(models.TextChoices):
    SIGN_IN = "sign_in", "登录"
    SIGN_IN_FAILED = "sign_in_failed", "登录失败"
    SIGN_OUT = "sign_out", "退出登录"
    LOCKED_OUT = "locked_out", "账号锁定"
    EXPORT = "export", "导出数据"
    DEACTIVATED = "deactivated", "停用账号"


class SecurityEvent(models.Model):
    """Sign-ins, failures, sign-outs, lockouts and exports (安全审计). Never changed or deleted by anyone;
    on PostgreSQL a trigger refuses updates, and deletes of anything younger than six months."""

    kind = models.CharField("事件", max_length=16, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        User, verbose_name="用户", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField("登录名", max_length=150, blank=True)
    ip = models.GenericIPAddressField("来源IP", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "安全审计事件"
        verbose_name_plural = "安全审计事件"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"


class UserSession(models.Model):
    """Which sessions belong to whom, so that deactivating a user ends their sessions at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class OutboxTask(models.Model):
    """A background task handed to the queue. Written in the same transaction as the work that asks for it,
    then sent to Celery; if Redis is down it waits here and is sent when Redis is back (nothing is lost,
    the portal keeps working and says that background work is delayed)."""

    task_name = models.CharField("任务", max_length=200)
    args = models.JSONField("参数", default=list, blank=True)
    kwargs = models.JSONField("关键字参数", default=dict, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField("发送次数", default=0)
    last_error = models.CharField("最近错误", max_length=300, blank=True)

    class Meta:
        verbose_name = "后台任务队列"
        verbose_name_plural = "后台任务队列"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.task_name} {self.created_at:%Y-%m-%d %H:%M}"


class JobProgress(models.Model):
    """How far a long piece of work has got. A row of its own, so that writing progress never waits on the
    locks the work itself holds (the work's own rows stay locked until it commits)."""

    job = models.CharField("任务", max_length=100, unique=True, help_text="例：recipients.monthlyroster:12")
    done = models.PositiveIntegerField("已完成", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "任务进度"
        verbose_name_plural = "任务进度"

    def __str__(self):
        return f"{self.job} {self.done}/{self.total}"
