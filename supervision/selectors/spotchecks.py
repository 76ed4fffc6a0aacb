"""Reads for spot checks: who can be drawn on a day."""

from contracts.models import Agreement
from recipients.models import Recipient
from recipients.selectors import levels_on


def population_for(*, day, town=None, provider=None, level=""):
    """Recipient ids served on `day` (`AgreementQuerySet.serving_on`), by town/provider/level."""
    agreements = Agreement.objects.serving_on(day)
    if provider is not None:
        agreements = agreements.filter(provider=provider)
    qs = Recipient.objects.in_support_on(day).filter(pk__in=agreements.values("recipient_id"))
    if town is not None:
        qs = qs.filter(town=town)
    ids = list(qs.values_list("pk", flat=True))
    if level:
        levels = levels_on(ids, day)
        ids = [pk for pk in ids if levels.get(pk) == level]
    return sorted(ids)
