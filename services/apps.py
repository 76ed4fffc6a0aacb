from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "上门服务"
