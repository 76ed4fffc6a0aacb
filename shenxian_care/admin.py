from auditlog.admin import LogEntryAdmin as BaseLogEntryAdmin
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import TokenProxy

from . import actions
from .admin_mixins import ScopedAdminMixin
from .audit import audit_workbook, record_export
from .models import ExportJob, SecurityEvent, User
from .scoping import is_bureau

ROLE_NOT_PERMISSIONS = ("groups", "user_permissions")


@admin.register(User)
class UserAdmin(ScopedAdminMixin, BaseUserAdmin):
    list_display = ("username", "full_name", "role", "town", "provider", "is_active", "last_login")
    list_filter = ("role", "is_active", "town", "provider")
    search_fields = ("username", "first_name", "last_name", "phone")
    list_select_related = ("town", "provider")
    # The role decides what a login may do, not Django's groups and per-model permissions: those are not offered
    # (their names are English, stored when the tables were made).
    fieldsets = (
        *(
            (title, {**options, "fields": tuple(f for f in options["fields"] if f not in ROLE_NOT_PERMISSIONS)})
            for title, options in BaseUserAdmin.fieldsets
        ),
        ("角色与范围", {"fields": ("role", "town", "provider", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("角色与范围", {"fields": ("role", "town", "provider", "last_name", "first_name")}),
    )

    actions = ["deactivate_selected"]

    @admin.action(description="停用所选账号（立即结束其登录会话与手机令牌）")
    def deactivate_selected(self, request, queryset):
        for user in queryset.filter(is_active=True):
            actions.user_deactivate(actor=request.user, user=user, request=request)
        self.message_user(request, "所选账号已停用。", messages.SUCCESS)

    @admin.display(description="姓名")
    def full_name(self, user):
        return user.get_full_name()

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Deactivation also ends every session of that user, at once.
            obj.is_active = True
            super().save_model(request, obj, form, change)
            actions.user_deactivate(actor=request.user, user=obj, request=request)
            return
        super().save_model(request, obj, form, change)


def _xlsx_response(content, name):
    from urllib.parse import quote

    from django.http import HttpResponse

    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


class ReadOnlyAuditMixin(ScopedAdminMixin):
    """Audit records can be searched and read, never added, changed or deleted, by anyone."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAuditMixin, BaseLogEntryAdmin):
    actions = ["export_xlsx"]

    @admin.action(description="导出所选审计记录（Excel）")
    def export_xlsx(self, request, queryset):
        rows = (
            (e.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S"), str(e.actor or ""), e.remote_addr or "",
             e.get_action_display(), e.content_type.name if e.content_type else "", e.object_pk, e.object_repr,
             e.changes_str)
            for e in queryset.select_related("actor", "content_type").order_by("timestamp")
        )  # fmt: skip
        header = ("时间", "操作人", "来源IP", "操作", "对象类型", "对象编号", "对象", "变更（前 → 后）")
        record_export(user=request.user, request=request, what="审计记录", count=queryset.count())
        return _xlsx_response(audit_workbook(rows, header), "审计记录.xlsx")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = ("at", "kind", "username", "ip", "detail")
    list_filter = ("kind",)
    search_fields = ("username", "ip")
    date_hierarchy = "at"
    actions = ["export_xlsx"]

    @admin.action(description="导出所选安全事件（Excel）")
    def export_xlsx(self, request, queryset):
        rows = (
            (e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"), e.get_kind_display(), e.username, e.ip or "",
             str(e.detail or ""))
            for e in queryset.order_by("at")
        )  # fmt: skip
        record_export(user=request.user, request=request, what="安全审计事件", count=queryset.count())
        header = ("时间", "事件", "登录名", "来源IP", "详情")
        return _xlsx_response(audit_workbook(rows, header, title="安全审计事件"), "安全审计事件.xlsx")


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAuditMixin, admin.ModelAdmin):
    """The bureau's view of the export jobs (who asked for what, what failed): read only, and never the file
    itself, which only the person who asked may download from the portal."""

    list_display = ("created_at", "requested_by", "kind_title", "file_name", "status", "error", "finished_at", "size")
    list_filter = ("status", "kind")
    search_fields = ("requested_by__username", "file_name")
    list_select_related = ("requested_by",)
    date_hierarchy = "created_at"
    exclude = ("file",)

    @admin.display(description="导出内容")
    def kind_title(self, obj):
        return obj.kind_title

    def get_queryset(self, request):
        # Every job's record, not only the viewer's own: the portal's owner-only rule guards the files.
        return ExportJob.objects.select_related("requested_by")


# Third-party admins follow the same rule: the role decides, not Django's per-model permissions.
admin.site.unregister(Group)  # roles, not groups, decide what a login may do


def _bureau_only(model, mixin, *, may_delete=False, may_add=True, **attrs):
    base = type(admin.site._registry[model])
    admin.site.unregister(model)
    if may_delete:
        attrs["has_delete_permission"] = lambda self, request, obj=None: is_bureau(request.user)
    if not may_add:
        attrs["has_add_permission"] = lambda self, request, *args: False
    admin.site.register(model, type(base.__name__, (mixin, base), attrs))


def _device_or_404(view_name):
    """django-otp's own device pages (config, QR code) read the device with a bare get(): a missing id would be
    a 500. Look it up among the devices the viewer may see first, and answer 404."""

    def view(self, request, pk):
        if not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404("未找到该双因素认证设备。")
        return getattr(TOTPDeviceAdmin, view_name)(self, request, pk)

    return view


# Revoke a lost phone's API token. Tokens are issued by signing in only (their key is bound to the password).
_bureau_only(TokenProxy, ScopedAdminMixin, may_delete=True, may_add=False)


class TOTPDeviceChineseMixin(ScopedAdminMixin):
    """django-otp's device admin, in Chinese: its labels are plain English strings no catalog can translate."""

    LABELS = {
        "user": ("用户", "该设备所属的登录账号。"),
        "name": ("设备名称", "便于识别的名称，如“张三的手机”。"),
        "confirmed": ("已启用", "该设备是否已可用于验证。"),
        "created_at": ("创建时间", ""),
        "last_used_at": ("最近使用时间", ""),
        "key": ("密钥", "十六进制编码的密钥（最长40字节）。"),
        "step": ("时间步长（秒）", ""),
        "t0": ("起始时间（Unix）", ""),
        "digits": ("口令位数", ""),
        "tolerance": ("允许误差（步）", "允许前后相差的时间步数。"),
        "drift": ("时钟偏差（步）", "设备时钟与服务器相差的时间步数。"),
        "last_t": ("最近验证的时间步", ""),
        "throttling_failure_timestamp": ("最近验证失败时间", ""),
        "throttling_failure_count": ("连续失败次数", ""),
    }
    SECTIONS = {
        "Identity": "设备",
        "Timestamps": "时间",
        "Configuration": "配置",
        "State": "状态",
        "Throttling": "限速",
    }
    list_display = ["user", "device_name", "created", "last_used", "is_confirmed"]
    list_filter = []
    search_help_text = "按用户名搜索"

    def get_list_display(self, request):
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        return [(self.SECTIONS.get(title, title), options) for title, options in super().get_fieldsets(request, obj)]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["labels"] = {field: label for field, (label, _help) in self.LABELS.items()}
        kwargs["help_texts"] = {field: help_text for field, (_label, help_text) in self.LABELS.items()}
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="设备名称", ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description="创建时间", ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description="最近使用时间", ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    @admin.display(description="已启用", boolean=True)
    def is_confirmed(self, device):
        return device.confirmed


_bureau_only(  # enrol or remove a second factor
    TOTPDevice,
    TOTPDeviceChineseMixin,
    may_delete=True,
    config_view=_device_or_404("config_view"),
    qrcode_view=_device_or_404("qrcode_view"),
)
_bureau_only(AccessAttempt, ReadOnlyAuditMixin, may_delete=True)  # deleting the attempts unlocks the account
_bureau_only(AccessLog, ReadOnlyAuditMixin)
_bureau_only(AccessFailureLog, ReadOnlyAuditMixin)
