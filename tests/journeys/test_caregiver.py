"""Journey 3, a caregiver on a cheap phone (360×740): sign in → today's recipients → check in (position
granted) → tick service items, add a photo → check out → sees the visit verified; then again with the phone
2 km from the registered home → sees the exception and why."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from contracts.models import Agreement
from services.models import Visit
from shenxian_care.models import User

from .conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = (Decimal("36.234000"), Decimal("115.671000"))  # where the phone fixture stands


def photo(path):
    Image.new("RGB", (640, 480), (120, 160, 90)).save(path, "JPEG")
    return path


def first_recipient_at_home():
    """The demo caregiver's first recipient, whose home the bureau registered where the phone fixture stands."""
    caregiver = User.objects.get(username="caregiver").caregiver
    recipient = (
        Agreement.objects.filter(caregiver=caregiver, recipient__exit_date__isnull=True)
        .select_related("recipient")
        .first()
        .recipient
    )
    recipient.home_latitude, recipient.home_longitude = HOME
    recipient.save(update_fields=["home_latitude", "home_longitude"])
    return recipient


def one_visit(page, recipient, photo_path, nth):
    card = page.locator(f"section.visit-card[data-recipient='{recipient.pk}']")
    # Kept on the phone first, then uploaded; once everything is sent the page reloads from the server.
    with page.expect_navigation(timeout=60_000):
        card.get_by_role("button", name="签到（开始服务）").click()
    # 35 minutes of care (the standard asks for at least 30): the phone's clock moves on
    page.clock.fast_forward("35:00")
    card = page.locator(f"section.visit-card[data-recipient='{recipient.pk}']")
    card.get_by_label("生活照料").check()
    card.get_by_label("精神慰藉").check()
    card.get_by_label("服务记录").fill("打扫卫生，陪老人聊天。")
    card.locator("input[type=file][name=photos]").set_input_files(str(photo_path))
    with page.expect_navigation(timeout=60_000):
        card.get_by_role("button", name="签退（结束服务）").click()
    page.wait_for_selector(f"section[aria-label='服务记录'] >> nth={nth - 1}", timeout=60_000)


def visit_without_signal(page, recipient, *, note=None, photo_path=None):
    """With the network off: check in, 40 minutes of care, check out; the records wait on the phone."""
    page.context.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    card = page.locator(f"section.visit-card[data-recipient='{recipient.pk}']")
    card.get_by_role("button", name="签到（开始服务）").click()
    page.wait_for_selector("#net-state:has-text('无网络')")
    page.clock.fast_forward("40:00")
    card.get_by_label("生活照料").check()
    if note:
        card.get_by_label("服务记录").fill(note)
    if photo_path:
        card.locator("input[type=file][name=photos]").set_input_files(str(photo_path))
    card.get_by_role("button", name="签退（结束服务）").click()
    card.get_by_text("记录保存在手机上，联网后自动上传").wait_for()


def visits_api_requests(page):
    """The visits API addresses the page asks for from now on, in order ("sync/", "{id}/photos/", …)."""
    sent = []
    page.on("request", lambda r: sent.append(r.url.split("/api/v1/visits/")[1]) if "/api/v1/visits/" in r.url else None)
    return sent


def test_caregiver_logs_a_verified_visit_and_sees_an_exception_far_from_home(
    daytime, demo, background, phone, tmp_path
):
    page = phone
    recipient = first_recipient_at_home()
    # The phone's clock starts an hour ago, so the visits end in the past (times are the phone's own).
    page.clock.install(time=timezone.now() - datetime.timedelta(hours=1, minutes=30))

    sign_in(page, "caregiver")
    page.goto(page.base + "/portal/services/caregiver/")
    assert recipient.name in page.content()
    assert "还需" in page.content()
    shot(page, "caregiver-01-today")

    one_visit(page, recipient, photo(tmp_path / "visit-1.jpg"), nth=1)
    visit = Visit.objects.get()
    assert visit.status == "verified", visit.exception_reasons
    assert visit.photos.count() == 1
    records = page.locator("section[aria-label='服务记录']")
    assert "核验通过" in records.first.inner_text()
    shot(page, "caregiver-02-verified")

    # the second visit: the phone is 2 km north of the registered home
    page.context.set_geolocation({"latitude": 36.2520, "longitude": 115.6710})
    page.clock.fast_forward("05:00")
    one_visit(page, recipient, photo(tmp_path / "visit-2.jpg"), nth=2)
    far = Visit.objects.order_by("-started_at").first()
    assert far.status == "exception"
    assert far.exception_reasons == ["too_far"]
    latest = page.locator("section[aria-label='服务记录']").first.inner_text()
    assert far.get_status_display() in latest and "原因：签到位置超出规定范围" in latest
    shot(page, "caregiver-03-exception")


def test_a_visit_logged_without_signal_is_sent_when_the_network_returns(daytime, demo, background, phone, tmp_path):
    """In a village with no signal: check in and check out offline; the visit waits on the phone and goes up
    with its original times and position when the network is back, marked as synced late."""
    page = phone
    recipient = first_recipient_at_home()
    phone_start = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2)
    page.clock.install(time=phone_start)
    sign_in(page, "caregiver")
    page.goto(page.base + "/portal/services/caregiver/")

    visit_without_signal(page, recipient, note="停电没信号，照常服务。", photo_path=photo(tmp_path / "offline.jpg"))
    # check-in, check-out and the photo wait on the phone; nothing reached the server
    expect(page.locator("#queue-count")).to_have_text("3")
    assert not Visit.objects.exists()
    shot(page, "caregiver-04-offline-queue")

    # the signal comes back, later: the queue goes up by itself and the page reloads from the server
    sent = visits_api_requests(page)
    page.clock.fast_forward("30:00")
    with page.expect_navigation(timeout=60_000):
        page.context.set_offline(False)
    page.wait_for_selector("section[aria-label='服务记录']", timeout=60_000)
    visit = Visit.objects.get()
    assert visit.synced_late
    assert visit.status == "verified", visit.exception_reasons  # the position at check-in was at home
    assert visit.photos.count() == 1
    # the times are the phone's, taken when the caregiver tapped, not when the server heard of them
    assert abs((visit.started_at - phone_start).total_seconds()) < 60
    assert visit.duration_minutes == 40
    assert visit.received_at - visit.started_at > datetime.timedelta(minutes=60)
    assert "离线补传" in page.locator("section[aria-label='服务记录']").first.inner_text()
    # the check-in and the check-out went up together in one request, then the photo with its file
    assert sent == ["sync/", f"{visit.client_id}/photos/"]
    shot(page, "caregiver-05-synced-late")


def test_a_batch_the_server_cannot_read_goes_up_one_record_at_a_time(daytime, demo, phone, tmp_path):
    """A queue the batch endpoint refuses whole (here: a server not yet upgraded answers 400) still goes up: the
    page falls back to one request per record, and the visit arrives once."""
    page = phone
    recipient = first_recipient_at_home()
    page.clock.install(time=timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2))
    sign_in(page, "caregiver")
    online = [False]

    def old_server(route):
        # a routed answer would reach the page even offline: without signal the request fails as it would
        if not online[0]:
            return route.abort("internetdisconnected")
        return route.fulfill(status=400, json={"visits": ["无法读取"]})

    page.route("**/api/v1/visits/sync/", old_server)
    sent = visits_api_requests(page)
    page.goto(page.base + "/portal/services/caregiver/")

    visit_without_signal(page, recipient)
    expect(page.locator("#queue-count")).to_have_text("2")

    sent.clear()
    online[0] = True
    with page.expect_navigation(timeout=60_000):
        page.context.set_offline(False)
    page.wait_for_selector("section[aria-label='服务记录']", timeout=60_000)
    visit = Visit.objects.get()
    assert sent == ["sync/", "check-in/", f"{visit.client_id}/check-out/"]
    assert (visit.duration_minutes, visit.status, visit.synced_late) == (40, "verified", True)
