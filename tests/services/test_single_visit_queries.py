"""One visit at a time (a check-in request, then a check-out request, as a simple app sends them) through a real
API token: each request reads a fixed, small number of queries, whatever the caregiver's history."""

import datetime
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from services.models import Visit
from services.standards import standard_on
from shenxian_care.authentication import new_token_key
from tests.factories import AgreementFactory

from .factories import VisitFactory

pytestmark = pytest.mark.django_db

# A server sends the same number: there the request's transaction is a BEGIN and a COMMIT, here (inside the test's
# own transaction) a SAVEPOINT and its RELEASE.
# the token with its user and caregiver; the recipient, with whether this client id was sent before (a resend then
# reads the first record: answered from it, or refused 409 if it says something else); the verification's
# agreements joined to the windows of the contracts they are served under, GPS rules and neighbouring visits (the
# standard is cached); the insert and its audit record (a new visit has no confirmation code: not read), in a
# transaction (2)
CHECK_IN_QUERIES = 9
# the token with its user and caregiver; the visit (locked), with its recipient and town (the caregiver and provider
# are the login's); the verification's agreements with their contract windows, GPS rules and neighbouring visits;
# the update and its audit record (diffed against the row as locked, not read again), in a transaction (2)
CHECK_OUT_QUERIES = 9


@pytest.fixture
def phone(caregiver_user):
    client = APIClient()
    token = Token.objects.create(user=caregiver_user, key=new_token_key(caregiver_user))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize("earlier_visits", [0, 12])
def test_a_check_in_and_a_check_out_each_read_a_fixed_number_of_queries(
    phone, caregiver, agreement, django_assert_num_queries, earlier_visits
):
    # given a caregiver with (or without) a history of visits, to this and other recipients
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    now = timezone.now()
    for k in range(earlier_visits):
        VisitFactory(agreement=(agreement, other)[k % 2], started_at=now - datetime.timedelta(hours=3 + k), minutes=40)
    recipient = agreement.recipient
    body = {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient.pk,
        "started_at": (now - datetime.timedelta(minutes=50)).isoformat(),
        "latitude": float(recipient.home_latitude) + 0.0001,
        "longitude": float(recipient.home_longitude),
        "accuracy_m": 12,
    }
    out = {"ended_at": (now - datetime.timedelta(minutes=5)).isoformat(), "service_items": ["daily_care"]}
    # what a running process has already read once: the service standard, the audit trail's content type
    standard_on(now.date())
    ContentType.objects.get_for_model(Visit)

    # when the phone checks in and then out
    with django_assert_num_queries(CHECK_IN_QUERIES):
        response = phone.post("/api/v1/visits/check-in/", body, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "verified"
    with django_assert_num_queries(CHECK_OUT_QUERIES):
        response = phone.post(f"/api/v1/visits/{body['client_id']}/check-out/", out, format="json")

    # then the visit is finished and verified
    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert response.json()["duration_minutes"] == 45


def test_a_check_outs_audit_record_is_the_one_auditlog_writes_for_a_save(caregiver_user, agreement, check_in):
    """The check-out writes the update's audit record from the row it locked (shenxian_care.audit
    .save_with_update_record); it must be exactly what django-auditlog's own pre_save receiver writes."""
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from auditlog.receivers import log_update

    from services import actions

    visit = check_in(caregiver_user, agreement.recipient, ago_minutes=60)
    ended = visit.started_at + datetime.timedelta(minutes=45)
    with set_actor(caregiver_user, remote_addr="10.7.7.8"):
        finished = actions.visit_check_out(
            actor=caregiver_user, visit_client_id=visit.client_id, ended_at=ended, service_items=["daily_care"]
        )
    ours = LogEntry.objects.filter(content_type__model="visit", action=LogEntry.Action.UPDATE).get()

    # what auditlog records for the same change, reading the row as it was
    Visit.objects.filter(pk=visit.pk).update(
        ended_at=None,
        duration_minutes=None,
        service_items=[],
        checkout_received_at=None,
        updated_at=visit.updated_at,
        checkout_digest=visit.checkout_digest,
    )
    finished.updated_at = ours.timestamp  # any moment: compared below as the save writes it
    with set_actor(caregiver_user, remote_addr="10.7.7.8"):
        log_update(sender=Visit, instance=finished, raw=False)
    theirs = LogEntry.objects.filter(content_type__model="visit", action=LogEntry.Action.UPDATE).exclude(pk=ours.pk)
    theirs = theirs.get()
    compared = ["content_type_id", "object_pk", "object_id", "object_repr", "serialized_data", "action",
                "actor_id", "cid", "remote_addr", "additional_data"]  # fmt: skip
    assert {f: getattr(ours, f) for f in compared} == {f: getattr(theirs, f) for f in compared}
    assert set(ours.changes) == set(theirs.changes)
    for name in set(ours.changes) - {"updated_at"}:
        assert ours.changes[name] == theirs.changes[name], name
    assert ours.changes["ended_at"][0] == "None"
    assert ours.actor_id == caregiver_user.pk
