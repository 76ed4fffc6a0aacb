from django.apps import AppConfig


class ShenxianCareConfig(AppConfig):
    name = "shenxian_care"
    verbose_name = "平台账户与角色"

    def ready(self):
        from auditlog.registry import auditlog

        from . import audit, checks, chinese_names  # noqa: F401 - connect the sign-in receivers, register the checks
        from .models import User

        chinese_names.apply()

        auditlog.register(User, exclude_fields=["password", "last_login"])
