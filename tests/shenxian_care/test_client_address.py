"""Behind the county's reverse proxy: the sign-in lockout and the audit trail know the real client (from the one
trusted header, off by default), one person's mistakes never lock out the office, and an ID number typed as a user
name is never kept in full."""

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.cache import cache
from django.urls import reverse

from shenxian_care.audit import client_address
from shenxian_care.models import SecurityEvent

PASSWORD = "Shenxian-2026-pass"
PROXY = "10.0.0.1"
ID_NUMBER = "371522199001011234"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()


@pytest.fixture
def behind_proxy(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXIES = [PROXY]


def sign_in(client, username, password, *, client_ip):
    # every request reaches the portal from the proxy, which appends the address it saw
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        headers={"X-Forwarded-For": f"1.2.3.4, {client_ip}"},
    )


def test_the_header_is_believed_only_when_configured_and_from_a_trusted_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": "6.6.6.6, 192.168.5.20"})
    assert client_address(request) == PROXY  # off by default: any client can send that header
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    assert client_address(request) == PROXY  # configured, but 10.0.0.1 is not a trusted proxy
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_address(request) == "192.168.5.20"  # the address the proxy appended, not the client's claim
    assert client_address(rf.get("/", REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": "not-an-address"})) == PROXY
    assert client_address(rf.get("/", REMOTE_ADDR=PROXY)) == PROXY
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert client_address(rf.get("/", REMOTE_ADDR=PROXY, headers={"X-Real-IP": "192.168.5.21"})) == "192.168.5.21"


@pytest.mark.django_db
def test_one_persons_failures_behind_the_proxy_do_not_lock_out_the_office(
    behind_proxy, client, town_user, other_town_user
):
    # given five wrong passwords for one official, from their desk behind the proxy
    for _ in range(5):
        sign_in(client, town_user.username, "wrong-password", client_ip="192.168.5.20")

    # then that official is locked, from any desk
    locked = sign_in(client, town_user.username, PASSWORD, client_ip="192.168.5.99")
    assert "账号已暂时锁定" in locked.content.decode()
    # and a colleague at the next desk, coming through the same proxy, still signs in
    response = sign_in(client, other_town_user.username, PASSWORD, client_ip="192.168.5.21")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(other_town_user.pk)


@pytest.mark.django_db
def test_the_real_address_is_recorded(behind_proxy, client, town_user):
    sign_in(client, town_user.username, "wrong-password", client_ip="192.168.5.20")
    sign_in(client, town_user.username, PASSWORD, client_ip="192.168.5.20")

    assert set(SecurityEvent.objects.values_list("ip", flat=True)) == {"192.168.5.20"}
    assert set(AccessLog.objects.values_list("ip_address", flat=True)) == {"192.168.5.20"}


@pytest.mark.django_db
def test_the_audit_middleware_records_the_client_behind_the_proxy(behind_proxy, client, bureau_user):
    # given a bureau user editing a record through the proxy
    client.force_login(bureau_user)
    response = client.post(
        f"/admin/shenxian_care/user/{bureau_user.pk}/change/",
        {
            "username": bureau_user.username,
            "role": "bureau",
            "is_active": "on",
            "is_staff": "on",
            "last_name": "王",
            "first_name": "改名",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
        REMOTE_ADDR=PROXY,
        headers={"X-Forwarded-For": "6.6.6.6, 192.168.5.30"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.filter(object_pk=str(bureau_user.pk)).latest("timestamp")
    assert entry.remote_addr == "192.168.5.30"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [ID_NUMBER, "37152219900101123x", "371522 19900101 1234"])
def test_an_id_number_typed_as_the_user_name_is_kept_masked(client, typed):
    for _ in range(6):  # five failures lock it, the sixth is refused while locked
        client.post(reverse("login"), {"username": typed, "password": "whatever-1"}, REMOTE_ADDR="10.1.2.3")

    kept = [
        *SecurityEvent.objects.values_list("username", flat=True),
        *AccessAttempt.objects.values_list("username", flat=True),
        *AccessFailureLog.objects.values_list("username", flat=True),
    ]
    assert kept and SecurityEvent.objects.filter(kind="locked_out").exists()
    digits = typed.replace(" ", "").upper()
    assert all(name == digits[:4] + "*" * 10 + digits[-4:] for name in kept), kept
    everything = [*SecurityEvent.objects.values(), *AccessAttempt.objects.values(), *AccessFailureLog.objects.values()]
    assert digits[4:14] not in str(everything)  # nor in the request data axes keeps


@pytest.mark.django_db
def test_an_ordinary_user_name_is_kept_as_typed(client, town_user):
    client.post(reverse("login"), {"username": town_user.username, "password": "nope"}, REMOTE_ADDR="10.1.2.3")
    assert SecurityEvent.objects.get(kind="sign_in_failed").username == town_user.username
    assert AccessAttempt.objects.get().username == town_user.username


@pytest.mark.django_db
def test_api_sign_in_with_an_id_number_is_kept_masked_too(api_client):
    api_client.post(reverse("api-sign-in"), {"username": ID_NUMBER, "password": "x"}, REMOTE_ADDR="10.1.2.3")
    assert set(SecurityEvent.objects.values_list("username", flat=True)) == {"3715**********1234"}
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"3715**********1234"}


@pytest.mark.django_db
def test_a_made_up_forwarded_header_does_not_step_round_the_sign_in_throttle(api_client, monkeypatch):
    from shenxian_care.throttling import SignInRateThrottle

    monkeypatch.setattr(SignInRateThrottle, "THROTTLE_RATES", {"sign_in": "3/minute"})
    codes = [
        api_client.post(
            reverse("api-sign-in"),
            {"username": "x", "password": "y"},
            REMOTE_ADDR="10.9.9.9",
            headers={"X-Forwarded-For": f"172.16.0.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert codes[-1] == 429
