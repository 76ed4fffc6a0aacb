"""The service standard in force on a day (the bureau's setting, with domain.md's defaults).

Every visit's verification needs it, so the few rows of the table are kept in the cache (the shared one where
Redis is configured) instead of being read per visit. Saving or deleting a row drops the cached copy at once and
again when the change commits; rows changed around the model (a queryset `update()`, a restore) are seen within
`CACHE_SECONDS`."""

import datetime
import logging

from django.core.cache import cache
from django.db import transaction

from .models import ServiceStandard

logger = logging.getLogger(__name__)
CACHE_KEY = "services:standards:v1"
CACHE_SECONDS = 60


def _cache(operation, *args):
    """A cache that cannot be reached (Redis down) never stops a visit: the table is read instead."""
    try:
        return operation(*args)
    except Exception:  # noqa: BLE001 - any cache backend's connection error
        logger.warning("service standard cache unavailable", exc_info=True)
        return None


def _rows():
    rows = _cache(cache.get, CACHE_KEY)
    if rows is None:
        rows = list(ServiceStandard.objects.order_by("-effective_month"))
        _cache(cache.set, CACHE_KEY, rows, CACHE_SECONDS)
    return rows


def forget_standards(**kwargs):
    """Receiver of ServiceStandard's post_save and post_delete (services.apps)."""
    _cache(cache.delete, CACHE_KEY)
    transaction.on_commit(lambda: _cache(cache.delete, CACHE_KEY))


def standard_on(day: datetime.date) -> ServiceStandard:
    """The standard row in force in the month of `day`; the defaults (unsaved) when the bureau set none."""
    month = day.replace(day=1)
    for row in _rows():  # newest first
        if row.effective_month <= month:
            return row
    return ServiceStandard(effective_month=datetime.date(2000, 1, 1))
