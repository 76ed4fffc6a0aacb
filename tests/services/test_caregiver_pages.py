import datetime
import uuid

import pytest
from django.utils import timezone

from services.models import ServiceStandard, Visit, VisitPhoto
from tests.factories import AgreementFactory

from .images import image_file

pytestmark = pytest.mark.django_db


def test_day_page_lists_own_recipients_with_full_address(client_as, caregiver_user, agreement, provider):
    stranger = AgreementFactory(provider=provider)
    response = client_as(caregiver_user).get("/portal/services/caregiver/")
    html = response.content.decode()
    assert response.status_code == 200
    assert agreement.recipient.name in html
    assert agreement.recipient.address in html
    assert stranger.recipient.name not in html
    assert "还需 8 次" in html
    assert "caregiver.js" in html


def test_day_page_query_count_is_fixed(client_as, caregiver, caregiver_user, assert_fixed_queries):
    AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    client = client_as(caregiver_user)

    def add_rows():
        for _ in range(4):
            AgreementFactory(provider=caregiver.provider, caregiver=caregiver)

    assert_fixed_queries(lambda: client.get("/portal/services/caregiver/"), add_rows)


def test_day_page_is_for_caregivers_only(client_as, town_user):
    assert client_as(town_user).get("/portal/services/caregiver/").status_code == 403


def test_plain_form_check_in_and_check_out_with_photos(client_as, caregiver_user, agreement):
    client = client_as(caregiver_user)
    client_id = str(uuid.uuid4())
    started = timezone.now() - datetime.timedelta(minutes=40)
    response = client.post(
        f"/portal/services/caregiver/check-in/{agreement.recipient_id}/",
        {"client_id": client_id, "started_at": started.isoformat(), "latitude": "36.234100", "longitude": "115.671"},
    )
    assert response.status_code == 302
    visit = Visit.objects.get(client_id=client_id)
    assert visit.started_at == started

    response = client.post(
        f"/portal/services/caregiver/visits/{client_id}/check-out/",
        {"service_items": ["daily_care", "walking_aid"], "note": "陪同散步", "photos": [image_file(), image_file()]},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.ended_at is not None
    assert visit.service_items == ["daily_care", "walking_aid"]
    assert VisitPhoto.objects.filter(visit=visit).count() == 2


def test_check_out_error_keeps_what_was_typed(client_as, caregiver_user, agreement):
    client = client_as(caregiver_user)
    client_id = str(uuid.uuid4())
    client.post(f"/portal/services/caregiver/check-in/{agreement.recipient_id}/", {"client_id": client_id})
    response = client.post(
        f"/portal/services/caregiver/visits/{client_id}/check-out/",
        {"service_items": [], "note": "写了一半的记录"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请至少选择一项服务项目" in html
    assert "写了一半的记录" in html
    assert Visit.objects.get().ended_at is None


def test_too_many_photos_are_refused_before_anything_is_saved(client_as, caregiver_user, agreement):
    client = client_as(caregiver_user)
    client_id = str(uuid.uuid4())
    client.post(f"/portal/services/caregiver/check-in/{agreement.recipient_id}/", {"client_id": client_id})
    response = client.post(
        f"/portal/services/caregiver/visits/{client_id}/check-out/",
        {"service_items": ["daily_care"], "photos": [image_file() for _ in range(4)]},
    )
    assert response.status_code == 400
    assert "最多上传 3 张" in response.content.decode()
    assert Visit.objects.get().ended_at is None


def test_plain_form_for_someone_elses_recipient_is_404(client_as, caregiver_user, provider):
    stranger = AgreementFactory(provider=provider).recipient
    response = client_as(caregiver_user).post(f"/portal/services/caregiver/check-in/{stranger.pk}/", {})
    assert response.status_code == 404


def test_emergency_form(client_as, caregiver_user, agreement):
    response = client_as(caregiver_user).post(
        f"/portal/services/caregiver/emergency/{agreement.recipient_id}/", {"what": "突发胸痛", "called": "120"}
    )
    assert response.status_code == 302
    assert Visit.objects.get().emergency_called == "120"


def test_confirmation_by_a_code_of_the_recipients_card(client_as, caregiver_user, agreement, bureau_user):
    from services.actions import confirmation_card_issue

    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), confirmation_mode="code")
    _card, codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    client = client_as(caregiver_user)
    client_id = str(uuid.uuid4())
    client.post(f"/portal/services/caregiver/check-in/{agreement.recipient_id}/", {"client_id": client_id})
    assert "确认码" in client.get("/portal/services/caregiver/").content.decode()
    # the last four characters of the ID number (the old check, which the caregiver's own list shows) are no code
    wrong = client.post(
        f"/portal/services/caregiver/visits/{client_id}/confirm/", {"code": agreement.recipient.id_number[-4:]}
    )
    assert wrong.status_code == 400
    assert Visit.objects.get().confirmed_at is None
    right = client.post(f"/portal/services/caregiver/visits/{client_id}/confirm/", {"code": codes[0]})
    assert right.status_code == 302
    assert Visit.objects.get().confirmation_method == "code"


def test_confirmation_by_signature_through_the_api(api_as, caregiver_user, agreement):
    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), confirmation_mode="signature")
    api = api_as(caregiver_user)
    client_id = str(uuid.uuid4())
    api.post(
        "/api/v1/visits/check-in/",
        {"client_id": client_id, "recipient": agreement.recipient_id, "started_at": timezone.now().isoformat()},
        format="json",
    )
    missing = api.post(f"/api/v1/visits/{client_id}/confirm/", {}, format="multipart")
    assert missing.status_code == 400
    ok = api.post(f"/api/v1/visits/{client_id}/confirm/", {"signature": image_file("s.png", "PNG")}, format="multipart")
    assert ok.status_code == 200
    assert ok.json()["confirmation_method"] == "signature"


def test_confirmation_is_refused_when_the_county_does_not_ask_for_it(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    client_id = str(uuid.uuid4())
    api.post(
        "/api/v1/visits/check-in/",
        {"client_id": client_id, "recipient": agreement.recipient_id, "started_at": timezone.now().isoformat()},
        format="json",
    )
    assert api.post(f"/api/v1/visits/{client_id}/confirm/", {"code": "1234"}).status_code == 400


def test_service_worker_is_served_with_its_scope_header(client):
    response = client.get("/portal/services/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/portal/services/"
    body = response.content.decode()
    assert "/portal/services/caregiver/" in body
    assert "services/caregiver.js" in body


def test_home_lands_on_the_day_and_nav_shows_the_caregiver_link(client_as, caregiver_user):
    response = client_as(caregiver_user).get("/portal/", follow=True)
    assert response.redirect_chain == [("/portal/services/caregiver/", 302)]
    assert "/portal/services/caregiver/" in response.content.decode()


def test_the_day_is_ordered_by_need_and_searchable_by_name(client_as, caregiver, caregiver_user):
    from services.selectors import caregiver_day
    from tests.factories import RecipientFactory
    from tests.services.factories import TZ, VisitFactory

    today = timezone.localdate()

    def person(name, level="self_care", visited_days_ago=()):
        agreement = AgreementFactory(
            provider=caregiver.provider, caregiver=caregiver, recipient=RecipientFactory(name=name, level=level)
        )
        for days in visited_days_ago:
            moment = datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time(9), tzinfo=TZ)
            VisitFactory(agreement=agreement, started_at=moment)
        return agreement

    # given: 失能 needs most visits; among the 自理, one never visited and one visited long ago before a recent one
    person("刘近访", visited_days_ago=[0 if today.day == 1 else 1])
    person("陈久未", visited_days_ago=[40])
    person("王从未")
    person("赵失能", level="full")
    # then: most still due first, then the longest since the last visit (never first), then the rest
    names = [row["name"] for row in caregiver_day(actor=caregiver_user)]
    assert names[0] == "赵失能"
    assert names.index("王从未") < names.index("陈久未")
    if today.day > 1:  # a visit this month leaves fewer due
        assert names[-1] == "刘近访"
    page = client_as(caregiver_user).get("/portal/services/caregiver/").content.decode()
    assert "尚无上门记录" in page and "上次上门 40 天前" in page
    # search by name (the server's answer, for a phone without script)
    found = client_as(caregiver_user).get("/portal/services/caregiver/", {"q": "陈"}).content.decode()
    assert "陈久未" in found and "王从未" not in found and "赵失能" not in found
    assert [r["name"] for r in caregiver_day(actor=caregiver_user, filters={"q": "失能"})] == ["赵失能"]


def test_the_confirmation_code_field_takes_a_code_from_the_card(client_as, caregiver_user, agreement):
    """The code comes from the recipient's one-time card (six digits), not from an ID number (whose X the phone's
    numeric keypad could not type)."""
    from lxml import html

    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), confirmation_mode="code")
    page = html.fromstring(client_as(caregiver_user).get("/portal/services/caregiver/").content.decode())
    (field,) = page.xpath("//input[@name='code']")
    assert field.get("pattern") == "[0-9]{6}" and field.get("maxlength") == "6"
