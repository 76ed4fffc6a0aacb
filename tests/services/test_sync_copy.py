"""A phone's batch written by COPY on PostgreSQL (services.actions.visits._insert): the rows read back as sent, and a
duplicate sent at the same moment by another request still ends as "existing", never a second visit or an error."""

import datetime
import threading
import uuid

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from services import actions
from services.api import SyncSerializer
from services.models import Visit
from shenxian_care.copy import allocate_ids, copy_from

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's (CI runs it)")


def _items(recipient, count, **extra):
    now = timezone.now()
    raw = []
    for k in range(count):
        start = now - datetime.timedelta(minutes=300 - 60 * k)
        raw.append(
            {
                "client_id": str(uuid.uuid4()),
                "recipient": recipient.pk,
                "started_at": start.isoformat(),
                "ended_at": (start + datetime.timedelta(minutes=45)).isoformat(),
                "latitude": float(recipient.home_latitude),
                "longitude": float(recipient.home_longitude),
                "service_items": ["daily_care"],
                "offline": True,
                **extra,
            }
        )
    parsed = SyncSerializer(data={"visits": raw})
    parsed.is_valid(raise_exception=True)
    return parsed.validated_data["visits"]


@pytest.mark.django_db
def test_copied_visits_read_back_as_sent(caregiver_user, agreement):
    note = "擦身\t翻身\n换药\r\\N 不是空值 \\ 反斜杠"
    results = actions.visit_sync(actor=caregiver_user, items=_items(agreement.recipient, 3, note=note))

    assert [outcome for _, outcome, _ in results] == ["created"] * 3
    for visit, _, _ in results:
        stored = Visit.objects.get(pk=visit.pk)
        assert stored.client_id == visit.client_id
        assert stored.note == note
        assert stored.started_at == visit.started_at and stored.updated_at == visit.updated_at
        assert stored.checkin_latitude == visit.checkin_latitude
        assert stored.service_items == ["daily_care"] and stored.exception_reasons == visit.exception_reasons
        assert stored.confirmed_at is None and stored.agreement_id == agreement.pk
        entry = LogEntry.objects.get(content_type__model="visit", object_pk=str(visit.pk))
        assert entry.changes["note"] == ["None", note]


@pytest.mark.django_db
def test_a_unique_violation_in_a_copy_is_djangos_integrity_error(caregiver_user, agreement):
    actions.visit_sync(actor=caregiver_user, items=_items(agreement.recipient, 1))
    taken = Visit.objects.get()
    (key,) = allocate_ids((Visit, 1))[0]
    row = [str(key), str(taken.client_id)]
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_from("services_visit", ["id", "client_id"], "\t".join(row) + "\n")


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_is_recorded_once(caregiver_user, agreement):
    # given a batch, and a second request with the same batch that commits while the first is about to write
    items = _items(agreement.recipient, 3)
    real = actions.visits.allocate_ids
    other = {}

    def concurrent():
        try:
            other["results"] = actions.visit_sync(actor=caregiver_user, items=items)
        finally:
            connection.close()

    def allocate_after_the_other_request(*requests):
        if not other:  # the first request only (the other one's own call goes straight through)
            other["started"] = True
            thread = threading.Thread(target=concurrent)
            thread.start()
            thread.join()
        return real(*requests)

    actions.visits.allocate_ids = allocate_after_the_other_request
    try:
        # when the first request writes its batch
        results = actions.visit_sync(actor=caregiver_user, items=items)
    finally:
        actions.visits.allocate_ids = real

    # then the other request created them, this one finds them as existing (its first pass rolled back), once
    assert [outcome for _, outcome, _ in other["results"]] == ["created"] * 3
    assert [outcome for _, outcome, _ in results] == ["existing"] * 3
    assert Visit.objects.count() == 3
    assert LogEntry.objects.filter(content_type__model="visit").count() == 3
