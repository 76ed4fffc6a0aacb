"""Sign-in and sessions (身份鉴别): lockout, password rules, idle and absolute timeouts, deactivation,
throttling, and the audit of each sign-in event."""

import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from shenxian_care.actions import user_deactivate
from shenxian_care.models import SecurityEvent
from tests.factories import UserFactory

PASSWORD = "Shenxian-2026-pass"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3")


@pytest.mark.django_db
def test_sign_in_and_out_are_recorded_with_the_address(client, town_user):
    response = sign_in(client, town_user.username, PASSWORD)
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind="sign_in")
    assert event.user == town_user and event.ip == "10.1.2.3"
    client.post(reverse("logout"))
    assert SecurityEvent.objects.filter(kind="sign_out", user=town_user).exists()
    assert client.get(reverse("portal:home")).status_code == 302  # the session is gone


@pytest.mark.django_db
def test_five_failures_lock_the_account_for_thirty_minutes(client, town_user):
    for _ in range(5):
        response = sign_in(client, town_user.username, "wrong-password")
        assert "_auth_user_id" not in client.session
    # now even the right password is refused
    response = sign_in(client, town_user.username, PASSWORD)
    assert "账号已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # five wrong passwords, then the refused attempt while locked
    assert SecurityEvent.objects.filter(kind="sign_in_failed", username=town_user.username).count() == 6
    assert SecurityEvent.objects.filter(kind="locked_out").exists()
    # the password tried is never stored
    assert "wrong-password" not in str(list(SecurityEvent.objects.values_list("detail", flat=True)))


@pytest.mark.parametrize(
    "password",
    ["Ab1-short", "abcdefghijklmn", "abcdefgh1234", "password1234", "123456789012"],
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_mixed_password_is_accepted():
    validate_password("Yanta-Jiedao-2026")


def test_idle_and_absolute_session_limits(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60


@pytest.mark.django_db
def test_session_ends_twelve_hours_after_sign_in_however_active(client, town_user):
    sign_in(client, town_user.username, PASSWORD)
    assert client.get(reverse("portal:home")).status_code == 200
    session = client.session
    session["_signed_in_at"] = int(time.time()) - 12 * 60 * 60 - 1
    session.save()
    assert client.get(reverse("portal:home")).status_code == 302


@pytest.mark.django_db
def test_deactivation_kills_the_users_sessions_at_once(client, town_user, bureau_user):
    sign_in(client, town_user.username, PASSWORD)
    assert Session.objects.count() == 1
    user_deactivate(actor=bureau_user, user=town_user)
    assert Session.objects.count() == 0
    assert client.get(reverse("portal:home")).status_code == 302
    assert SecurityEvent.objects.filter(kind="deactivated", detail__target=town_user.username).exists()


@pytest.mark.django_db
def test_api_sign_in_gives_a_token_and_is_throttled(api_client, town_user, monkeypatch):
    from shenxian_care.throttling import SignInRateThrottle

    monkeypatch.setattr(SignInRateThrottle, "THROTTLE_RATES", {"sign_in": "3/minute"})
    url = reverse("api-sign-in")
    response = api_client.post(url, {"username": town_user.username, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200 and response.json()["token"]
    api_client.post(url, {"username": "x", "password": "y"}, REMOTE_ADDR="10.9.9.9")
    api_client.post(url, {"username": "x", "password": "y"}, REMOTE_ADDR="10.9.9.9")
    assert api_client.post(url, {"username": "x", "password": "y"}, REMOTE_ADDR="10.9.9.9").status_code == 429


@pytest.mark.django_db
def test_writes_are_throttled_per_user_reads_are_not(api_as, town_user, monkeypatch):
    from shenxian_care.throttling import WriteRateThrottle

    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", {"writes": "2/minute"})
    client = api_as(town_user)
    for _ in range(2):
        assert client.post("/api/v1/assessments/", {}, format="json").status_code == 400
    assert client.post("/api/v1/assessments/", {}, format="json").status_code == 429
    for _ in range(5):
        assert client.get("/api/v1/recipients/").status_code == 200


@pytest.mark.django_db
def test_every_api_endpoint_needs_a_signed_in_user(api_client):
    for url in ("/api/v1/recipients/", "/api/v1/agreements/", "/api/v1/towns/", "/api/schema/"):
        assert api_client.get(url).status_code in (401, 403)


@pytest.mark.django_db
def test_audit_records_cannot_be_changed_or_deleted_in_the_admin(client, bureau_user, town_user):
    sign_in(client, town_user.username, PASSWORD)
    event = SecurityEvent.objects.get(kind="sign_in")
    client.force_login(bureau_user)
    assert client.get("/admin/shenxian_care/securityevent/").status_code == 200
    assert client.post(f"/admin/shenxian_care/securityevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/shenxian_care/securityevent/{event.pk}/change/", {"username": "x"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk, username=town_user.username).exists()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_audit_records_cannot_be_changed_even_below_the_orm(town_user):
    from django.db import DatabaseError, transaction

    UserFactory(username="someone")
    event = SecurityEvent.objects.create(kind="sign_in", username="someone")
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(username="changed")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM shenxian_care_securityevent WHERE id = %s", [event.pk])
    assert SecurityEvent.objects.get(pk=event.pk).username == "someone"


def test_deployment_check_passes_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shenxian_care.settings.production",
        "DEBUG": "0",
        "SECRET_KEY": "a-real-production-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "care.shenxian.gov.cn",
        "FIELD_ENCRYPTION_KEYS": "Kp2xo3yQHh0QnHq2cQ0wQ0Y6q1sTgQm0bqv2bQJc0eU=",
        "ID_HASH_KEY": "a-real-id-digest-key-" + "y" * 40,
    }
    env.pop("DATABASE_URL", None)  # the check needs no database
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser journeys for their own process only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_an_oversized_request_is_refused_unread(client, bureau_user, settings):
    settings.MAX_REQUEST_BYTES = 1024
    client.force_login(bureau_user)
    response = client.post(reverse("recipients:roster_upload"), {"month": "2026-10", "big": "x" * 5000})
    assert response.status_code == 413
    assert "上传内容过大" in response.content.decode()


@pytest.mark.django_db
def test_bureau_exports_audit_records_and_the_export_is_itself_recorded(client, bureau_user):
    from auditlog.models import LogEntry

    from tests.excel import read_table
    from tests.factories import RecipientFactory

    RecipientFactory(name="审计对象")
    client.force_login(bureau_user)
    ids = list(LogEntry.objects.values_list("pk", flat=True))
    response = client.post("/admin/auditlog/logentry/", {"action": "export_xlsx", "_selected_action": ids, "index": 0})
    assert response.status_code == 200
    table = read_table(response.content)
    assert table.header[:4] == ("时间", "操作人", "来源IP", "操作")
    assert any("审计对象" in str(row) for row in table.body)
    assert SecurityEvent.objects.filter(kind="export", user=bureau_user, detail__what="审计记录").exists()


@pytest.mark.django_db
def test_audit_records_are_purged_only_after_the_retention_period(settings):
    import datetime

    from django.utils import timezone

    from shenxian_care.audit import purge_expired

    settings.AUDIT_RETENTION_DAYS = 30  # asked for less than six months: six months still apply
    with connection.cursor() as cursor:  # records are never updated, so their age is written as they go in
        for username, days in (("old", 200), ("recent", 100)):
            cursor.execute(
                "INSERT INTO shenxian_care_securityevent (kind, username, detail, at) VALUES (%s, %s, %s, %s)",
                ["sign_in", username, "{}", timezone.now() - datetime.timedelta(days=days)],
            )
    assert purge_expired() == 1
    assert list(SecurityEvent.objects.values_list("username", flat=True)) == ["recent"]


@pytest.mark.django_db
def test_half_an_hour_idle_ends_the_session_and_activity_keeps_it_alive(client, town_user):
    import datetime

    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in(client, town_user.username, PASSWORD)
        home = reverse("portal:home")
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get(home).status_code == 200
        clock.shift(datetime.timedelta(minutes=29))  # 58 minutes after sign-in, but the last request renewed it
        assert client.get(home).status_code == 200
        clock.shift(datetime.timedelta(minutes=31))  # then half an hour with nothing
        response = client.get(home)
        assert response.status_code == 302 and reverse("login") in response.url


@pytest.fixture
def admin_with_otp(settings):
    """The URL conf as it is built with ADMIN_REQUIRE_OTP=1 (it swaps the admin site's class at import)."""
    import importlib

    from django.contrib import admin
    from django.contrib.admin import AdminSite
    from django.urls import clear_url_caches

    import shenxian_care.urls

    settings.ADMIN_REQUIRE_OTP = True
    importlib.reload(shenxian_care.urls)
    clear_url_caches()
    yield
    admin.site.__class__ = AdminSite
    settings.ADMIN_REQUIRE_OTP = False
    importlib.reload(shenxian_care.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_with_admin_otp_bureau_staff_need_a_confirmed_code_before_the_admin_opens(client, bureau_user, admin_with_otp):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    sign_in(client, bureau_user.username, PASSWORD)
    # signed in with a password only: the portal opens, the admin does not
    assert client.get(reverse("portal:home")).status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url
    # with a confirmed TOTP device and its current code, it does
    device = TOTPDevice.objects.create(user=bureau_user, name="手机", confirmed=True)
    from django_otp.oath import totp

    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    login = client.post(
        "/admin/login/?next=/admin/",
        {"username": bureau_user.username, "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": code},
        REMOTE_ADDR="10.1.2.3",
    )
    assert login.status_code == 302
    assert client.get("/admin/").status_code == 200
