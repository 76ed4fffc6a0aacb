import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services import actions
from tests.factories import AgreementFactory, RecipientFactory


@pytest.fixture
def agreement(caregiver):
    """A signed agreement of the caregiver's provider naming the caregiver, for a 半失能 recipient of 燕塔街道."""
    return AgreementFactory(
        provider=caregiver.provider, caregiver=caregiver, recipient=RecipientFactory(level="partial")
    )


@pytest.fixture
def check_in():
    def run(user, recipient, *, ago_minutes=60, lat_offset=0.0, position=True, client_id=None, **extra):
        started = timezone.now() - datetime.timedelta(minutes=ago_minutes)
        return actions.visit_check_in(
            actor=user,
            client_id=client_id or uuid.uuid4(),
            recipient_id=recipient.pk,
            started_at=extra.pop("started_at", started),
            latitude=(float(recipient.home_latitude) + lat_offset) if position else None,
            longitude=float(recipient.home_longitude) if position else None,
            **extra,
        )[0]

    return run


@pytest.fixture
def check_out():
    def run(user, visit, *, minutes=45, ended_at=None, items=("daily_cleaning",), **extra):
        return actions.visit_check_out(
            actor=user,
            visit_client_id=visit.client_id,
            ended_at=ended_at or visit.started_at + datetime.timedelta(minutes=minutes),
            service_items=list(items),
            **extra,
        )

    return run


@pytest.fixture
def assert_fixed_queries(django_assert_num_queries):
    """Run `request()` with the data as it is, add rows with `add_rows()`, and require the very same number of
    queries again. (Counting against the first run keeps the test about this page, not the portal's middleware.)
    A first, uncounted run fills what a running process keeps (the cached service standard)."""

    def run(request, add_rows):
        request()
        with CaptureQueriesContext(connection) as first:
            request()
        add_rows()
        with django_assert_num_queries(len(first)):
            request()
        return len(first)

    return run


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """API write throttles count in the cache; a user id reused by a later test must not inherit the count."""
    from django.core.cache import cache

    cache.clear()
