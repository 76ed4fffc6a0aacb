import datetime
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    BUREAU = "bureau", "县民政局工作人员"
    FINANCE = "finance", "县财政局"
    TOWN = "town", "镇（街道）工作人员"
    PROVIDER = "provider", "服务机构工作人员"
    CAREGIVER = "caregiver", "照料护理人"


class User(AbstractUser):
    """A portal login. The role decides what the person may see (see `shenxian_care.scoping`)."""

    # No role until someone gives one: a login nobody has placed sees nothing (deny by default).
    role = models.CharField("角色", max_length=16, choices=Role.choices, blank=True, default="")
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
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"


class UserSession(models.Model):
    """Which sessions belong to whom, so that deactivating a user ends their sessions at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"

    def __str__(self):
        return f"{self.user} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


class OutboxTask(models.Model):
    """A background task handed to the queue. Written in the same transaction as the work that asks for it,
    then sent to Celery; if Redis is down it waits here and is sent when Redis is back (nothing is lost,
    the portal keeps working and says that background work is delayed). It is done when a worker has finished
    it, not when Redis took it: work lost with Redis's memory, or with a killed worker, is sent again."""

    task_name = models.CharField("任务", max_length=200)
    args = models.JSONField("参数", default=list, blank=True)
    kwargs = models.JSONField("关键字参数", default=dict, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField("发送次数", default=0)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "后台任务队列"
        verbose_name_plural = "后台任务队列"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.task_name} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


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


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


def export_storage():
    """The private storage of finished exports (settings.STORAGES["exports"]): no public URL."""
    return storages["exports"]


def export_file_path(job, filename):
    # Not the download name (that is Chinese and guessable): a month folder and an unguessable token.
    return f"{timezone.localtime(job.created_at):%Y%m}/{job.pk}-{secrets.token_hex(12)}.xlsx"


class ExportJobQuerySet(models.QuerySet):
    def for_actor(self, user):
        # Imported here: scoping imports Role from this module.
        from .scoping import owned_by

        return owned_by(self, user, owner="requested_by", scope="scope")


class ExportJob(models.Model):
    """An Excel export built in the background (导出任务): who asked, for what, how far it has got, and the
    finished file. The file is built as the person who asked (their role's scoping applies), downloaded only by
    them, and deleted with the job after EXPORT_RETENTION_DAYS. Builders are registered per kind by each app
    (`shenxian_care.exports.register`)."""

    requested_by = models.ForeignKey(User, verbose_name="申请人", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("导出内容", max_length=60)
    params = models.JSONField("参数", default=dict, blank=True)
    scope = models.CharField(
        "申请时的数据范围", max_length=60, help_text="角色与所属单位；变更后不再提供该文件，例：town:3"
    )
    file_name = models.CharField("文件名", max_length=200)
    status = models.CharField(
        "状态", max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    error = models.CharField("失败原因", max_length=300, blank=True)
    file = models.FileField("文件", storage=export_storage, upload_to=export_file_path, max_length=200, blank=True)
    size = models.PositiveBigIntegerField("文件大小（字节）", null=True, blank=True)
    summary = models.JSONField("导出摘要", default=dict, blank=True, help_text="记入每次下载的审计记录")
    created_at = models.DateTimeField("申请时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="exportjob_requester_recent")]
        constraints = [
            models.CheckConstraint(
                name="exportjob_done_has_file",
                condition=~Q(status="done") | ~Q(file=""),
                violation_error_message="已完成的导出任务必须有文件。",
            ),
            models.CheckConstraint(
                name="exportjob_failed_has_error",
                condition=~Q(status="failed") | ~Q(error=""),
                violation_error_message="失败的导出任务必须写明原因。",
            ),
        ]

    def __str__(self):
        return f"{self.file_name}（{self.get_status_display()}）"

    @property
    def kind_title(self):
        from .exports import title_of

        return title_of(self.kind)

    @property
    def running(self):
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def expires_at(self):
        return self.created_at + datetime.timedelta(days=settings.EXPORT_RETENTION_DAYS)
