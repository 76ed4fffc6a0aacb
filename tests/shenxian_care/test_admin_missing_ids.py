"""Every admin page named by an id answers an id that does not exist without a server error (django-otp's
device pages read the device with a bare get())."""

import re

import pytest
from django.urls import URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice


def _admin_patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _admin_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif (prefix + str(pattern.pattern)).startswith("admin/"):
            yield prefix + str(pattern.pattern)


def _with_id(route, value):
    return "/" + re.sub(r"<(?:\w+:)?\w+>", value, route)


ROUTES = [r for r in _admin_patterns(get_resolver().url_patterns) if "<" in r and "(?P" not in r and "^" not in r]


@pytest.fixture
def admin_client(client, bureau_user):
    bureau_user.is_superuser = True
    bureau_user.save()
    client.force_login(bureau_user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
def test_a_missing_id_is_never_a_server_error(admin_client, route):
    for value in ("999999", "99999999999999999999"):
        response = admin_client.get(_with_id(route, value))
        assert response.status_code < 500, (route, value, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["config", "qrcode"])
def test_the_totp_device_pages_answer_404_for_a_missing_device(admin_client, bureau_user, page):
    assert admin_client.get(f"/admin/otp_totp/totpdevice/999999/{page}/").status_code == 404
    device = TOTPDevice.objects.create(user=bureau_user, name="手机")
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/{page}/").status_code in (200, 403, 503)
