"""Chinese names of the third-party apps' admin sections and models (审计日志, 登录防护, 双因素验证, API令牌).

Their own names are English and, for django-otp and DRF's tokens, not translatable. Set on the app configs and the
models' options at start-up (not in the models' declared options, so no migration sees a change).
"""

from django.apps import apps

NAMES = {
    "auditlog": ("审计日志", {"logentry": "审计记录"}),
    "axes": (
        "登录防护",
        {
            "accessattempt": "登录尝试（锁定）",
            "accessattemptexpiration": "登录尝试到期",
            "accessfailurelog": "登录失败日志",
            "accesslog": "登录日志",
        },
    ),
    "otp_totp": ("双因素验证", {"totpdevice": "动态口令设备"}),
    "authtoken": ("API 令牌", {"token": "API 令牌", "tokenproxy": "API 令牌"}),  # nosec B105 - section names
}


def apply():
    for label, (app_name, models) in NAMES.items():
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        config.verbose_name = app_name
        for model_name, name in models.items():
            model = config.models.get(model_name)
            if model is not None:
                model._meta.verbose_name = name
                model._meta.verbose_name_plural = name
