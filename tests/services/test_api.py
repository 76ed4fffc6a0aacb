import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from services.models import Visit, VisitPhoto, VisitStatus
from tests.factories import AgreementFactory, RecipientFactory, VillageFactory, town

from .factories import VisitFactory, local
from .images import image_file

pytestmark = pytest.mark.django_db


def _check_in_body(recipient, client_id=None, minutes_ago=50):
    return {
        "client_id": str(client_id or uuid.uuid4()),
        "recipient": recipient.pk,
        "started_at": (timezone.now() - datetime.timedelta(minutes=minutes_ago)).isoformat(),
        "latitude": float(recipient.home_latitude) + 0.0001,
        "longitude": float(recipient.home_longitude),
        "accuracy_m": 12,
    }


def test_check_in_then_retry_returns_the_same_visit(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in_body(agreement.recipient)

    first = api.post("/api/v1/visits/check-in/", body, format="json")
    retry = api.post("/api/v1/visits/check-in/", body, format="json")

    assert first.status_code == 201, first.content
    assert retry.status_code == 200
    assert retry.json()["client_id"] == first.json()["client_id"] == body["client_id"]
    assert Visit.objects.count() == 1
    assert first.json()["status"] == "verified"


def test_check_out_retry_changes_nothing(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in_body(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    ended = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    out = {"ended_at": ended, "service_items": ["daily_cleaning", "emotional_support"], "note": "打扫院子"}

    first = api.post(f"/api/v1/visits/{body['client_id']}/check-out/", out, format="json")
    retry = api.post(f"/api/v1/visits/{body['client_id']}/check-out/", out, format="json")

    assert first.status_code == 200, first.content
    assert first.json()["duration_minutes"] == 45
    assert retry.status_code == 200 and retry.json() == first.json()
    assert Visit.objects.count() == 1


def test_check_out_rejects_items_outside_the_catalogue(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in_body(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    response = api.post(
        f"/api/v1/visits/{body['client_id']}/check-out/",
        {"ended_at": timezone.now().isoformat(), "service_items": ["massage"]},
        format="json",
    )
    assert response.status_code == 400
    assert Visit.objects.get().ended_at is None


def test_an_offline_visit_keeps_its_times_and_is_marked_synced_late(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = {**_check_in_body(agreement.recipient, minutes_ago=26 * 60), "offline": True}
    response = api.post("/api/v1/visits/check-in/", body, format="json")
    visit = Visit.objects.get()
    assert response.status_code == 201
    assert visit.synced_late is True
    assert visit.started_at == datetime.datetime.fromisoformat(body["started_at"])
    assert visit.received_at - visit.started_at > datetime.timedelta(hours=25)


def test_a_caregiver_cannot_log_for_someone_elses_recipient(api_as, caregiver_user, provider):
    stranger = AgreementFactory(provider=provider).recipient  # same provider, another caregiver
    response = api_as(caregiver_user).post("/api/v1/visits/check-in/", _check_in_body(stranger), format="json")
    assert response.status_code == 404
    emergency = api_as(caregiver_user).post(
        "/api/v1/visits/emergency/",
        {**_check_in_body(stranger), "what": "摔倒", "called": "120"},
        format="json",
    )
    assert emergency.status_code == 404
    assert Visit.objects.count() == 0


def test_a_client_id_of_another_caregivers_visit_is_refused(api_as, caregiver_user, agreement):
    theirs = VisitFactory()
    body = _check_in_body(agreement.recipient, client_id=theirs.client_id)
    response = api_as(caregiver_user).post("/api/v1/visits/check-in/", body, format="json")
    assert response.status_code == 400
    assert Visit.objects.count() == 1


def test_only_caregivers_log_visits(api_as, provider_user, agreement):
    response = api_as(provider_user).post(
        "/api/v1/visits/check-in/", _check_in_body(agreement.recipient), format="json"
    )
    assert response.status_code == 403


def test_emergency_rescue_is_logged_with_what_happened_and_who_was_called(api_as, caregiver_user, agreement):
    body = {**_check_in_body(agreement.recipient, minutes_ago=3), "what": "老人在院中摔倒", "called": "120、村委会"}
    first = api_as(caregiver_user).post("/api/v1/visits/emergency/", body, format="json")
    retry = api_as(caregiver_user).post("/api/v1/visits/emergency/", body, format="json")
    assert first.status_code == 201, first.content
    assert retry.status_code == 200
    data = first.json()
    assert data["kind"] == "emergency"
    assert data["service_items"] == ["emergency_rescue"]
    assert data["emergency_called"] == "120、村委会"
    assert data["status"] == "verified"  # no minimum length for an emergency


def _visit_with_checkin(api, recipient):
    body = _check_in_body(recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    return body["client_id"]


def test_photo_upload_up_to_three_and_retry(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    client_id = _visit_with_checkin(api, agreement.recipient)
    url = f"/api/v1/visits/{client_id}/photos/"
    photo_ids = [str(uuid.uuid4()) for _ in range(4)]

    for photo_id in photo_ids[:3]:
        assert api.post(url, {"image": image_file(), "client_id": photo_id}, format="multipart").status_code == 201
    retry = api.post(url, {"image": image_file(), "client_id": photo_ids[0]}, format="multipart")
    fourth = api.post(url, {"image": image_file(), "client_id": photo_ids[3]}, format="multipart")

    assert retry.status_code == 200
    assert fourth.status_code == 400
    assert "最多" in fourth.json()["detail"]
    assert VisitPhoto.objects.count() == 3


def test_photo_must_be_an_image_of_an_allowed_type(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    url = f"/api/v1/visits/{_visit_with_checkin(api, agreement.recipient)}/photos/"
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    gif = image_file("a.gif", fmt="GIF", content_type="image/gif")
    png = image_file("a.png", fmt="PNG", content_type="image/png")

    assert api.post(url, {"image": fake}, format="multipart").status_code == 400
    assert api.post(url, {"image": gif}, format="multipart").status_code == 400
    assert api.post(url, {"image": png}, format="multipart").status_code == 201
    assert VisitPhoto.objects.get().content_type == "image/png"


def test_photo_size_limit(api_as, caregiver_user, agreement, monkeypatch):
    monkeypatch.setattr(VisitPhoto, "MAX_BYTES", 500)
    api = api_as(caregiver_user)
    url = f"/api/v1/visits/{_visit_with_checkin(api, agreement.recipient)}/photos/"
    big = image_file(size=(400, 400))
    assert big.size > 500
    response = api.post(url, {"image": big}, format="multipart")
    assert response.status_code == 400
    assert "MB" in response.json()["detail"]


def test_photos_only_for_own_visits(api_as, caregiver_user):
    theirs = VisitFactory()
    response = api_as(caregiver_user).post(
        f"/api/v1/visits/{theirs.client_id}/photos/", {"image": image_file()}, format="multipart"
    )
    assert response.status_code == 404


# --- reads and scoping ---------------------------------------------------------------------------------


def _visit_in(town_name):
    village = VillageFactory(town=town(town_name))
    return VisitFactory(agreement=AgreementFactory(recipient=RecipientFactory(village=village)))


def test_a_town_sees_only_its_visits(api_as, town_user):
    mine, theirs = _visit_in("燕塔街道"), _visit_in("朝城镇")
    api = api_as(town_user)
    listed = api.get("/api/v1/visits/").json()["results"]
    assert [row["client_id"] for row in listed] == [str(mine.client_id)]
    assert api.get(f"/api/v1/visits/{theirs.client_id}/").status_code == 404
    assert api.get(f"/api/v1/visits/{mine.client_id}/").status_code == 200


def test_provider_staff_see_only_their_providers_visits(api_as, provider_user, other_provider_user, provider):
    mine = VisitFactory(agreement=AgreementFactory(provider=provider))
    VisitFactory()
    listed = api_as(provider_user).get("/api/v1/visits/").json()["results"]
    assert [row["client_id"] for row in listed] == [str(mine.client_id)]
    assert api_as(other_provider_user).get(f"/api/v1/visits/{mine.client_id}/").status_code == 404


def test_finance_sees_no_visits(api_as, finance_user):
    visit = VisitFactory()
    api = api_as(finance_user)
    assert api.get("/api/v1/visits/").json()["results"] == []
    assert api.get(f"/api/v1/visits/{visit.client_id}/").status_code == 404


def test_a_caregiver_sees_only_their_own_visits(api_as, caregiver_user, agreement):
    mine = VisitFactory(agreement=agreement)
    VisitFactory()
    listed = api_as(caregiver_user).get("/api/v1/visits/").json()["results"]
    assert [row["client_id"] for row in listed] == [str(mine.client_id)]


@pytest.mark.parametrize("rows", [1, 6])
def test_visit_list_has_a_fixed_query_count(api_as, bureau_user, django_assert_num_queries, rows):
    visits = [VisitFactory(started_at=local(2025, 3, 3 + i)) for i in range(rows)]
    for n, visit in enumerate(visits[:3]):
        for k in range(n):
            VisitPhoto.objects.create(
                visit=visit, image=f"visits/photos/{visit.pk}-{k}.png", content_type="image/png", size_bytes=9
            )
    api = api_as(bureau_user)
    # count, page, and the page's photos counted (not a Count over every visit the list could show)
    with django_assert_num_queries(3):
        response = api.get("/api/v1/visits/")
    assert response.json()["count"] == rows
    counts = {row["client_id"]: row["photo_count"] for row in response.json()["results"]}
    assert counts == {str(v.client_id): i if i < 3 else 0 for i, v in enumerate(visits)}


@pytest.mark.parametrize("filters", [{}, {"month": "2025-03"}, {"date": "2025-03-04"}])
def test_a_page_of_the_visit_list_is_read_in_index_order_not_sorted(bureau_user, filters):
    """Flat with size: the newest visits come straight off an index (services.models visit_day_start), however many
    there are that day or month; nothing is sorted. PostgreSQL's plan is asked with sorting made prohibitively
    dear, so a missing index shows as a Sort node; elsewhere the test checks the order only."""
    from django.db import connection, transaction

    from services.selectors import visit_list

    for i in range(4):
        VisitFactory(started_at=local(2025, 3, 3 + i % 2, 8 + i))
    qs = visit_list(actor=bureau_user, filters=filters)[:50]
    listed = list(qs)
    assert [v.started_at for v in listed] == sorted((v.started_at for v in listed), reverse=True)
    if connection.vendor != "postgresql":
        return
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "visit_day_start" in plan, plan
    assert "Sort" not in plan, plan


def test_visit_list_is_newest_first(api_as, bureau_user):
    times = [local(2025, 3, 4, 8), local(2025, 3, 3, 17), local(2025, 3, 4, 15), local(2025, 3, 2, 9)]
    visits = [VisitFactory(started_at=t) for t in times]
    listed = [row["client_id"] for row in api_as(bureau_user).get("/api/v1/visits/").json()["results"]]
    assert listed == [str(v.client_id) for v in sorted(visits, key=lambda v: v.started_at, reverse=True)]


def test_one_visit_shows_its_photo_count(api_as, bureau_user):
    visit = VisitFactory()
    VisitPhoto.objects.create(visit=visit, image="visits/photos/x.png", content_type="image/png", size_bytes=9)
    assert api_as(bureau_user).get(f"/api/v1/visits/{visit.client_id}/").json()["photo_count"] == 1


def test_list_filters_by_status_and_month(api_as, bureau_user):
    VisitFactory(status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    VisitFactory()
    api = api_as(bureau_user)
    assert api.get("/api/v1/visits/?status=exception").json()["count"] == 1
    assert api.get("/api/v1/visits/?month=2025-03").json()["count"] == 2
    assert api.get("/api/v1/visits/?month=2025-04").json()["count"] == 0


def test_bureau_reviews_an_exception(api_as, bureau_user, town_user):
    visit = VisitFactory(status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    url = f"/api/v1/visits/{visit.client_id}/review/"
    assert api_as(town_user).post(url, {"accept": True, "reason": "x"}, format="json").status_code == 403
    response = api_as(bureau_user).post(url, {"accept": False, "reason": "电话回访未上门"}, format="json")
    assert response.json()["status"] == "rejected"
    again = api_as(bureau_user).post(url, {"accept": True, "reason": "复核"}, format="json")
    assert again.status_code == 400


def test_today_lists_the_caregivers_recipients_with_what_the_month_needs(api_as, caregiver_user, agreement):
    VisitFactory(agreement=agreement, started_at=timezone.now() - datetime.timedelta(minutes=2))
    api = api_as(caregiver_user)
    response = api.get("/api/v1/visits/today/")
    [row] = response.json()
    assert row["recipient"] == agreement.recipient_id
    assert row["address"] == agreement.recipient.address  # the caregiver needs the full address
    assert row["level_label"] == "半失能"
    assert row["required"] == 8
    assert row["done"] == 1
    assert row["remaining"] == 7


@pytest.mark.parametrize("rows", [1, 5])
def test_today_has_a_fixed_query_count(api_as, caregiver, caregiver_user, django_assert_num_queries, rows):
    for _ in range(rows):
        AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    api = api_as(caregiver_user)
    # 8: the month's contract windows are read once (days served count only inside a contract in force)
    with django_assert_num_queries(8):
        response = api.get("/api/v1/visits/today/")
    assert len(response.json()) == rows


def _sync_item(recipient, minutes_ago, minutes=45, **extra):
    start = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient.pk,
        "started_at": start.isoformat(),
        "ended_at": (start + datetime.timedelta(minutes=minutes)).isoformat(),
        "latitude": float(recipient.home_latitude),
        "longitude": float(recipient.home_longitude),
        "service_items": ["daily_care"],
        "offline": True,
        **extra,
    }


def test_sync_sends_a_whole_offline_queue_once(api_as, caregiver, caregiver_user, agreement, provider):
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver).recipient
    stranger = AgreementFactory(provider=provider).recipient
    open_body = _check_in_body(agreement.recipient, minutes_ago=300)
    api = api_as(caregiver_user)
    api.post("/api/v1/visits/check-in/", open_body, format="json")  # checked in online, went offline
    items = [
        # the same visit, now whole: finishes the open visit (its check-in part repeats what was sent online)
        {**_sync_item(agreement.recipient, 300), **open_body, "offline": True},
        _sync_item(other, 200),
        _sync_item(other, 190),  # overlaps the previous one in the same batch
        _sync_item(agreement.recipient, 100, kind="emergency", what="摔倒", called="120"),
        _sync_item(stranger, 50),  # not theirs
    ]

    first = api.post("/api/v1/visits/sync/", {"visits": items}, format="json")
    retry = api.post("/api/v1/visits/sync/", {"visits": items}, format="json")

    assert first.status_code == 200, first.content
    assert [r["outcome"] for r in first.json()] == ["finished", "created", "created", "created", "error"]
    assert [r["outcome"] for r in retry.json()] == ["existing"] * 4 + ["error"]
    assert Visit.objects.count() == 4
    results = first.json()
    assert results[0]["duration_minutes"] == 45
    assert results[1]["status"] == "verified"
    assert results[2]["exception_reasons"] == ["overlap"]
    assert Visit.objects.get(client_id=items[3]["client_id"]).kind == "emergency"
    assert all(r["synced_late"] for r in results[:4])
    assert results[4]["status"] is None and "未找到" in results[4]["detail"]


def _check_out_item(client_id, ended_minutes_ago, **extra):
    """A check-out as the caregiver page queues it: the visit's client id, no recipient or start."""
    return {
        "client_id": str(client_id),
        "ended_at": (timezone.now() - datetime.timedelta(minutes=ended_minutes_ago)).isoformat(),
        "service_items": ["daily_care", "emotional_support"],
        "note": "陪老人聊天",
        "offline": True,
        **extra,
    }


def test_sync_takes_a_check_in_and_its_check_out_queued_as_two_records(api_as, caregiver_user, agreement):
    """The caregiver page queues a check-in and, later, a check-out; sent together they make one visit."""
    from auditlog.models import LogEntry

    check_in = {**_check_in_body(agreement.recipient, minutes_ago=120), "offline": True}
    check_out = _check_out_item(
        check_in["client_id"], 80, checkout_latitude=check_in["latitude"], checkout_longitude=check_in["longitude"]
    )
    api = api_as(caregiver_user)

    first = api.post("/api/v1/visits/sync/", {"visits": [check_in, check_out]}, format="json")
    retry = api.post("/api/v1/visits/sync/", {"visits": [check_in, check_out]}, format="json")

    assert first.status_code == 200, first.content
    assert [r["outcome"] for r in first.json()] == ["created", "finished"], first.json()
    assert [r["outcome"] for r in retry.json()] == ["existing", "existing"]
    visit = Visit.objects.get()
    assert (visit.duration_minutes, visit.status, visit.synced_late) == (40, "verified", True)
    assert visit.service_items == ["daily_care", "emotional_support"] and visit.note == "陪老人聊天"
    assert visit.checkout_latitude is not None
    assert LogEntry.objects.filter(content_type__model="visit").count() == 1  # one visit, one record


def test_sync_finishes_a_visit_checked_in_by_an_earlier_request(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    check_in = _check_in_body(agreement.recipient, minutes_ago=60)
    api.post("/api/v1/visits/check-in/", check_in, format="json")

    response = api.post("/api/v1/visits/sync/", {"visits": [_check_out_item(check_in["client_id"], 10)]}, format="json")

    assert [r["outcome"] for r in response.json()] == ["finished"]
    assert Visit.objects.get().duration_minutes == 50


def test_sync_refuses_a_check_out_whose_check_in_never_arrived(api_as, caregiver_user, agreement):
    response = api_as(caregiver_user).post(
        "/api/v1/visits/sync/", {"visits": [_check_out_item(uuid.uuid4(), 10)]}, format="json"
    )
    assert response.status_code == 200
    [result] = response.json()
    assert result["outcome"] == "error" and result["detail"] == "未找到该服务记录的签到，无法签退。"
    assert not Visit.objects.exists()


def test_logging_visits_never_decrypts_an_id_or_bank_number(api_client, caregiver_user, agreement, monkeypatch):
    """A caregiver's phone needs names and places: the ID numbers of the recipient and caregiver and the bank
    numbers stay encrypted through check-in (and its retry), check-out and a queue sent in one request (signed in
    with a session, so that each request reads the caregiver afresh)."""
    from shenxian_care import crypto

    decrypted = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: decrypted.append(token) or real(token))
    api = api_client
    api.force_login(caregiver_user)
    check_in = _check_in_body(agreement.recipient, minutes_ago=300)
    api.post("/api/v1/visits/check-in/", check_in, format="json")
    assert api.post("/api/v1/visits/check-in/", check_in, format="json").status_code == 200  # a retry
    out = _check_out_item(check_in["client_id"], 250)
    api.post(f"/api/v1/visits/{check_in['client_id']}/check-out/", out, format="json")
    queued = [_sync_item(agreement.recipient, 200), out]  # the check-out sent again, in a queue
    response = api.post("/api/v1/visits/sync/", {"visits": queued}, format="json")

    assert [r["outcome"] for r in response.json()] == ["created", "existing"]
    assert Visit.objects.count() == 2
    assert decrypted == []


def test_a_check_out_answers_with_the_provider_the_visit_was_recorded_under(
    api_client, caregiver, caregiver_user, agreement, monkeypatch
):
    """The check-out takes the caregiver and their provider from the login rather than reading them again; a visit
    checked in before the caregiver moved to another provider still names (and keeps) the one it was made for,
    without decrypting its bank number."""
    from shenxian_care import crypto
    from tests.factories import ProviderFactory

    api = api_client
    api.force_login(caregiver_user)
    check_in = _check_in_body(agreement.recipient, minutes_ago=90)
    assert api.post("/api/v1/visits/check-in/", check_in, format="json").status_code == 201
    before = caregiver.provider
    caregiver.provider = ProviderFactory(name="另一家服务中心")
    caregiver.save()
    decrypted = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: decrypted.append(token) or real(token))

    response = api.post(
        f"/api/v1/visits/{check_in['client_id']}/check-out/", _check_out_item(check_in["client_id"], 40), format="json"
    )

    assert response.status_code == 200
    assert response.json()["provider"] == before.pk and response.json()["provider_name"] == before.name
    assert Visit.objects.get(client_id=check_in["client_id"]).provider_id == before.pk
    assert decrypted == []


@pytest.mark.parametrize("rows", [1, 20])
def test_sync_query_count_does_not_grow_with_the_batch(
    api_as, caregiver, caregiver_user, django_assert_num_queries, rows
):
    recipients = [AgreementFactory(provider=caregiver.provider, caregiver=caregiver).recipient for _ in range(3)]
    items = [_sync_item(recipients[i % 3], 2000 - 60 * i) for i in range(rows)]
    api = api_as(caregiver_user)
    from django.contrib.contenttypes.models import ContentType

    from services.standards import standard_on

    # what a running process has already read once: the service standard, the audit trail's content type
    standard_on(timezone.localdate())
    ContentType.objects.get_for_model(Visit)
    # fixed reads (caregiver, known client ids, recipients, agreements with their contract windows, GPS rules,
    # neighbours), a savepoint and its release, one INSERT for the visits and one for their audit records (a new
    # visit's confirmation code is not read: it has none); on PostgreSQL a COPY each instead of the INSERTs, their
    # keys taken first in one query (one statement more, and less time: services.actions.visits._insert)
    from django.db import connection

    with django_assert_num_queries(9 + (connection.vendor == "postgresql")):
        response = api.post("/api/v1/visits/sync/", {"visits": items}, format="json")
    assert all(r["outcome"] == "created" for r in response.json())


@pytest.mark.parametrize("rows", [1, 20])
def test_a_resent_batch_reads_a_fixed_number_of_queries(
    api_as, caregiver, caregiver_user, django_assert_num_queries, rows
):
    """A phone that sends its queue again (its answer was lost) is answered from the visits recorded: their town is
    the one read with them, not read again for each visit's check."""
    recipients = [AgreementFactory(provider=caregiver.provider, caregiver=caregiver).recipient for _ in range(3)]
    items = [_sync_item(recipients[i % 3], 2000 - 60 * i) for i in range(rows)]
    api = api_as(caregiver_user)
    first = api.post("/api/v1/visits/sync/", {"visits": items}, format="json")
    assert all(r["outcome"] == "created" for r in first.json())

    # known client ids, those visits locked with their people, recipients, a savepoint and its release (the
    # caregiver was read with the login by the first request: the test client sends that login object again)
    with django_assert_num_queries(5):
        response = api.post("/api/v1/visits/sync/", {"visits": items}, format="json")
    assert response.status_code == 200
    assert all(r["outcome"] == "existing" for r in response.json())


def test_sync_keeps_the_audit_trail_of_every_visit(api_as, caregiver, caregiver_user, agreement):
    from auditlog.models import LogEntry

    items = [_sync_item(agreement.recipient, 600 - 60 * i) for i in range(3)]
    api_as(caregiver_user).post("/api/v1/visits/sync/", {"visits": items}, format="json")
    logged = set(LogEntry.objects.filter(content_type__model="visit", action=0).values_list("object_pk", flat=True))
    assert logged == {str(pk) for pk in Visit.objects.values_list("pk", flat=True)}


def test_a_batch_visits_audit_record_is_the_one_auditlog_writes_for_a_single_save(caregiver, caregiver_user, agreement):
    """The sync endpoint writes its audit records in bulk (shenxian_care.audit.log_created_in_bulk, the changes built
    by `created_changes`, not auditlog's diff); each must be exactly what django-auditlog's own receiver writes for
    that visit: every column but the record's id and time, for every kind of item a phone sends."""
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from django.db.models.signals import post_save

    from services.actions import visit_sync
    from services.api import SyncSerializer

    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver, recipient=RecipientFactory())
    raw = {
        "visits": [
            _sync_item(agreement.recipient, 600, note="擦身\t翻身\n换药 \\ 备注", accuracy_m=7),
            _sync_item(
                other.recipient, 540, latitude=None, longitude=None, service_items=["daily_care", "walking_aid"]
            ),
            _check_in_body(agreement.recipient, minutes_ago=300) | {"offline": False},  # checked in, not out
            _sync_item(other.recipient, 200, kind="emergency", what="摔倒\t送医", called="120、家属", ended_at=None),
            _sync_item(agreement.recipient, 100, minutes=3),  # too short: an exception, with its reasons
        ]
    }
    parsed = SyncSerializer(data=raw)
    parsed.is_valid(raise_exception=True)
    items = parsed.validated_data["visits"]
    with set_actor(caregiver_user, remote_addr="10.7.7.7", remote_port=4242):
        results = visit_sync(actor=caregiver_user, items=items)
        assert [outcome for _, outcome, _ in results] == ["created"] * 5, results
        bulk = {e.object_pk: e for e in LogEntry.objects.filter(content_type__model="visit")}
        # what auditlog itself records for each visit, through its post_save receiver
        for visit in Visit.objects.order_by("pk"):
            post_save.send(sender=Visit, instance=visit, created=True, update_fields=None, raw=False, using="default")
    own = {
        e.object_pk: e
        for e in LogEntry.objects.filter(content_type__model="visit").exclude(pk__in=[e.pk for e in bulk.values()])
    }
    assert set(bulk) == set(own) == {str(pk) for pk in Visit.objects.values_list("pk", flat=True)}
    compared = [f.attname for f in LogEntry._meta.concrete_fields if f.name not in ("id", "timestamp")]
    assert "changes" in compared and "actor_id" in compared and "remote_addr" in compared
    for pk, entry in bulk.items():
        assert {f: getattr(entry, f) for f in compared} == {f: getattr(own[pk], f) for f in compared}, pk
        assert (entry.actor_id, entry.remote_addr, entry.remote_port) == (caregiver_user.pk, "10.7.7.7", 4242)
    kinds = {v.pk: v for v in Visit.objects.all()}
    noted = next(e for pk, e in bulk.items() if kinds[int(pk)].note)
    assert noted.changes["note"] == ["None", "擦身\t翻身\n换药 \\ 备注"]
    assert noted.changes["recipient"] == ["None", str(agreement.recipient.pk)]
    assert any(e.changes.get("kind") == ["None", "emergency"] for e in bulk.values())
    # once that request's context has closed, a later batch is never put down to its user or address
    later = SyncSerializer(data={"visits": [_sync_item(agreement.recipient, 50)]})
    later.is_valid(raise_exception=True)
    visit_sync(actor=caregiver_user, items=later.validated_data["visits"])
    newest = LogEntry.objects.filter(content_type__model="visit").latest("pk")
    assert (newest.actor_id, newest.remote_addr) == (None, None)


def test_token_auth_for_a_mobile_app(caregiver_user, agreement):
    from rest_framework.test import APIClient

    from shenxian_care.actions import api_token_issue

    token = api_token_issue(user=caregiver_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert (
        client.post("/api/v1/visits/check-in/", _check_in_body(agreement.recipient), format="json").status_code == 201
    )


def test_the_caregiver_page_can_post_with_its_session_and_csrf_cookie(caregiver_user, agreement):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(caregiver_user)
    client.get("/portal/services/caregiver/")  # sets the csrftoken cookie, as the page does in the browser
    body = _check_in_body(agreement.recipient)
    without = client.post("/api/v1/visits/check-in/", body, content_type="application/json")
    assert without.status_code == 403
    token = client.cookies["csrftoken"].value
    with_token = client.post(
        "/api/v1/visits/check-in/", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert with_token.status_code == 201


def test_a_phone_replaying_its_queue_has_a_larger_allowance_than_other_writes(
    api_as, caregiver_user, agreement, monkeypatch
):
    from shenxian_care.throttling import VisitUploadRateThrottle, WriteRateThrottle

    rates = {"writes": "2/minute", "visit_uploads": "4/minute"}
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(VisitUploadRateThrottle, "THROTTLE_RATES", rates)
    api = api_as(caregiver_user)
    # four check-ins retried from the queue: past the general write limit, within the uploads' own
    body = _check_in_body(agreement.recipient)
    assert [api.post("/api/v1/visits/check-in/", body, format="json").status_code for _ in range(4)] == [
        201,
        200,
        200,
        200,
    ]
    assert api.post("/api/v1/visits/check-in/", body, format="json").status_code == 429
    # reads are never limited
    assert api.get("/api/v1/visits/").status_code == 200


def test_the_bureaus_review_keeps_the_ordinary_write_limit(api_as, bureau_user, monkeypatch):
    from shenxian_care.throttling import VisitUploadRateThrottle, WriteRateThrottle

    rates = {"writes": "2/minute", "visit_uploads": "100/minute"}
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(VisitUploadRateThrottle, "THROTTLE_RATES", rates)
    visit = VisitFactory(status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    api = api_as(bureau_user)
    url = f"/api/v1/visits/{visit.client_id}/review/"
    codes = [api.post(url, {"accept": True, "reason": "核实无误"}, format="json").status_code for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]
