"""Behind the proxy and across web processes: API limits count in the shared cache (Redis) and never fail a
request when it is down; the client's address comes from the proxy's header only when the proxy sent it."""

import os
import time

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from shenxian_care import throttling
from shenxian_care.models import SecurityEvent
from shenxian_care.throttling import WriteRateThrottle

from ..conftest import PASSWORD

REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache(settings, location):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"test-throttle-{os.getpid()}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def write_twice_then_refused(client):
    return [client.post("/api/v1/assessments/", {}, format="json").status_code for _ in range(3)]


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL), as in .ci/run")
@pytest.mark.django_db
def test_web_processes_share_one_count_per_user(settings, town_user, monkeypatch):
    redis_cache(settings, REDIS_URL)
    caches["default"].clear()
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", {"writes": "2/minute"})
    # Two clients stand for two web processes: their own memory, one Redis.
    first, second = APIClient(), APIClient()
    first.force_authenticate(town_user)
    second.force_authenticate(town_user)
    try:
        assert first.post("/api/v1/assessments/", {}, format="json").status_code == 400
        caches["default"].close()  # a new connection, as another process would have
        assert second.post("/api/v1/assessments/", {}, format="json").status_code == 400
        assert second.post("/api/v1/assessments/", {}, format="json").status_code == 429
    finally:
        caches["default"].clear()


@pytest.fixture(autouse=True)
def shared_cache_not_known_down(monkeypatch):
    monkeypatch.setattr(throttling, "_shared_down_until", 0.0)


@pytest.mark.django_db
def test_limits_still_count_and_requests_still_answer_when_redis_is_down(settings, town_user, monkeypatch):
    redis_cache(settings, "redis://127.0.0.1:6390/0")  # nothing listens there
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", {"writes": "2/minute"})
    client = APIClient()
    client.force_authenticate(town_user)
    started = time.monotonic()
    assert write_twice_then_refused(client) == [400, 400, 429]
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_client_address_comes_from_the_proxy_header_only_from_a_trusted_proxy(client, settings, town_user):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    # through nginx on this machine: the header is believed
    client.post(
        "/accounts/login/",
        {"username": town_user.username, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP="203.0.113.7",
    )
    # straight from the internet, claiming another address: the header is ignored
    client.post(
        "/accounts/login/",
        {"username": town_user.username, "password": "wrong"},
        REMOTE_ADDR="198.51.100.9",
        HTTP_X_REAL_IP="10.0.0.1",
    )
    events = SecurityEvent.objects.order_by("pk")
    assert [(e.kind, e.ip) for e in events if e.kind in ("sign_in", "sign_in_failed")] == [
        ("sign_in", "203.0.113.7"),
        ("sign_in_failed", "198.51.100.9"),
    ]


def test_production_counts_in_redis_when_it_is_configured():
    import subprocess
    import sys

    from django.conf import settings

    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shenxian_care.settings.production",
        "SECRET_KEY": "k" * 60,
        "FIELD_ENCRYPTION_KEYS": "Kp2xo3yQHh0QnHq2cQ0wQ0Y6q1sTgQm0bqv2bQJc0eU=",
        "ID_HASH_KEY": "i" * 60,
    }
    backends = {}
    for redis_url in ("redis://127.0.0.1:6379/3", ""):
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=settings.BASE_DIR,
            env={**env, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
            check=True,
        )
        backends[redis_url] = result.stdout.strip()
    assert backends == {
        "redis://127.0.0.1:6379/3": "django.core.cache.backends.redis.RedisCache",
        "": "django.core.cache.backends.locmem.LocMemCache",
    }
