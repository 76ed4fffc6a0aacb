from django.apps import AppConfig


class ShenxianCareConfig(AppConfig):
    name = "shenxian_care"
    verbose_name = "平台账户与角色"

    def ready(self):
        from auditlog.registry import auditlog

        from . import audit  # noqa: F401 - connects the sign-in receivers
        from .models import User

        auditlog.register(User, exclude_fields=["password", "last_login"])
