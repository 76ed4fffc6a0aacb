"""The service standard in force on a day (the bureau's setting, with domain.md's defaults)."""

import datetime

from .models import ServiceStandard


def standard_on(day: datetime.date) -> ServiceStandard:
    """The standard row in force in the month of `day`; the defaults (unsaved) when the bureau set none."""
    row = ServiceStandard.objects.filter(effective_month__lte=day.replace(day=1)).order_by("-effective_month").first()
    return row or ServiceStandard(effective_month=datetime.date(2000, 1, 1))
