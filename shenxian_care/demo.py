"""The demo county is invented: its commands run only where the settings allow demo data (development, tests)."""

from django.conf import settings
from django.core.management.base import CommandError


def ensure_demo_database():
    """Refuse to load invented people, positions and visits into a database that is not a demo's."""
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise CommandError(
            "此环境不允许载入演示数据（DEMO_DATA_ALLOWED 未开启）：虚构的人员、定位和服务记录不能混入真实数据。"
        )
