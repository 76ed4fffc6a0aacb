"""Which recipients a provider's staff and a caregiver may see: those they serve today, by the same in-force
windows billing pays by (contracts.models). Registered with shenxian_care.scoping in ContractsConfig.ready()."""

import datetime

from django.db.models import Q
from django.utils import timezone

from recipients.models import Recipient, in_support_q
from shenxian_care.scoping import caregiver_in_post_of

from .models import Agreement, PurchaseContract, agreement_in_force_q


def provider_served_recipients(user, day=None):
    """The people of the towns the provider's contracts in force (or yet to start) serve (still in support: the
    provider signs agreements with them) and those it serves under an agreement still current. A provider whose
    contracts have all ended sees nobody, whatever agreements it once had."""
    day = day or timezone.localdate()
    # Contracts in force today or later (a provider prepares agreements before its contract starts).
    contracts = PurchaseContract.objects.in_force_between(day, datetime.date.max).filter(provider_id=user.provider_id)
    in_towns = Q(town__in=contracts.values("towns")) & in_support_q(day, datetime.date.max)  # in support now or later
    served = Q(pk__in=Agreement.objects.current_on(day).filter(provider_id=user.provider_id).values("recipient_id"))
    return Recipient.objects.filter(in_towns | served).values("pk")


def caregiver_served_recipients(user, day=None):
    """The people a working caregiver serves under a current agreement naming them."""
    caregiver = caregiver_in_post_of(user)
    if caregiver is None:
        return None
    day = day or timezone.localdate()
    return Agreement.objects.current_on(day).filter(caregiver_id=caregiver.pk).values("recipient_id")


# A phone without signal keeps its visits for days; they are judged by the visit's own date when they arrive.
OFFLINE_UPLOAD_DAYS = 31


def caregiver_upload_recipients(user, day=None):
    """The people a caregiver may send a visit for: those named with them in an agreement in force some day of the
    last OFFLINE_UPLOAD_DAYS (an offline phone's queue arrives late). Verification then judges each visit by its
    own date: after the agreement's end it is flagged 无有效协议, never verified. Anyone else is not found."""
    caregiver = caregiver_in_post_of(user)
    if caregiver is None:
        return Recipient.objects.none()
    day = day or timezone.localdate()
    recent = agreement_in_force_q(day - datetime.timedelta(days=OFFLINE_UPLOAD_DAYS), day)
    # one filter() (`in_force_between`'s condition with the caregiver's): every upload builds this
    theirs = Agreement.objects.filter(recent, caregiver_id=caregiver.pk)
    return Recipient.objects.filter(pk__in=theirs.values("recipient_id"))
