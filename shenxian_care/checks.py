"""System checks for what the settings must never allow."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


@register()
def exports_are_not_public(app_configs, **kwargs):
    """Finished exports hold personal and money data: their folder must not lie inside a folder the web server
    publishes (MEDIA_ROOT, STATIC_ROOT), nor contain one."""
    exports = Path(settings.STORAGES["exports"]["OPTIONS"]["location"]).resolve()
    errors = []
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        value = getattr(settings, name, None)
        if not value:
            continue
        public = Path(value).resolve()
        if exports == public or public in exports.parents or exports in public.parents:
            errors.append(
                Error(
                    f"EXPORTS_ROOT ({exports}) 与 {name} ({public}) 重叠：导出文件会被公开访问。",
                    hint="把 EXPORTS_ROOT 设在网站公开目录之外。",
                    id="shenxian_care.E001",
                )
            )
    return errors
