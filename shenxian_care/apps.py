from django.apps import AppConfig


class ShenxianCareConfig(AppConfig):
    name = "shenxian_care"
    verbose_name = "平台账户与角色"
