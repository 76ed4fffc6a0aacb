"""Visit factories: a finished, verified 60-minute visit by the agreement's caregiver at the recipient's home."""

import datetime
import uuid
import zoneinfo

import factory

from services.models import Visit, VisitStatus
from tests.factories import AgreementFactory, UserFactory

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(year, month, day, hour=9, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TZ)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    class Params:
        minutes = 60

    client_id = factory.LazyFunction(uuid.uuid4)
    agreement = factory.SubFactory(AgreementFactory)
    provider = factory.LazyAttribute(lambda o: o.agreement.provider)
    caregiver = factory.LazyAttribute(lambda o: o.agreement.caregiver)
    recipient = factory.LazyAttribute(lambda o: o.agreement.recipient)
    town = factory.LazyAttribute(lambda o: o.recipient.town)
    started_at = factory.LazyFunction(lambda: local(2025, 3, 3))
    ended_at = factory.LazyAttribute(lambda o: o.started_at + datetime.timedelta(minutes=o.minutes))
    duration_minutes = factory.LazyAttribute(lambda o: o.minutes)
    visit_date = factory.LazyAttribute(lambda o: o.started_at.astimezone(TZ).date())
    checkin_latitude = factory.LazyAttribute(lambda o: o.recipient.home_latitude)
    checkin_longitude = factory.LazyAttribute(lambda o: o.recipient.home_longitude)
    service_items = factory.LazyFunction(lambda: ["daily_cleaning"])
    status = VisitStatus.VERIFIED
    received_at = factory.LazyAttribute(lambda o: o.ended_at or o.started_at)
    created_by = factory.LazyFunction(lambda: UserFactory(username="visit-logger"))
