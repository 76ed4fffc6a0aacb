"""Access ends when it should: a phone's API token has a lifetime and ends on sign-out, on any password change
and on deactivation; deactivating anyone, wherever it is done, ends their sessions and tokens at once; and every
way a password is set applies the one password policy."""

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts.models import Caregiver
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import SecurityEvent, User
from shenxian_care.validators import id_check_char

PASSWORD = "Shenxian-2026-pass"
ID_NUMBER = "37152219900101123" + id_check_char("37152219900101123")
ME = "/api/v1/caregivers/"  # any endpoint a caregiver may read


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()


def phone_signs_in(user, password=PASSWORD):
    response = APIClient().post(reverse("api-sign-in"), {"username": user.username, "password": password})
    assert response.status_code == 200, response.content
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return phone, response.json()


def browser_signs_in(user):
    browser = Client()
    response = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert browser.get(reverse("services:caregiver_day")).status_code == 200
    return browser


def signed_out(browser):
    response = browser.get(reverse("services:caregiver_day"))
    return response.status_code == 302 and reverse("login") in response.url


# --- the phone's token -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_lasts_twelve_hours_then_the_phone_signs_in_again(caregiver_user, settings):
    assert settings.API_TOKEN_LIFETIME_SECONDS == 12 * 60 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        phone, body = phone_signs_in(caregiver_user)
        assert datetime.datetime.fromisoformat(body["expires_at"]) == timezone.now() + datetime.timedelta(hours=12)
        assert phone.get(ME).status_code == 200
        clock.shift(datetime.timedelta(hours=11, minutes=59))
        assert phone.get(ME).status_code == 200
        clock.shift(datetime.timedelta(minutes=2))
        response = phone.get(ME)
        assert response.status_code == 401 and "重新登录" in response.json()["detail"]
        assert not Token.objects.filter(user=caregiver_user).exists()
        # signing in again gives a fresh twelve hours
        phone, _ = phone_signs_in(caregiver_user)
        assert phone.get(ME).status_code == 200


@pytest.mark.django_db
def test_signing_out_ends_the_token(caregiver_user):
    phone, _ = phone_signs_in(caregiver_user)
    assert phone.delete(reverse("api-sign-in")).status_code == 204
    assert phone.get(ME).status_code == 401
    assert SecurityEvent.objects.filter(kind="sign_out", user=caregiver_user).exists()


@pytest.mark.django_db
def test_signing_in_again_ends_the_older_token(caregiver_user):
    old_phone, _ = phone_signs_in(caregiver_user)
    new_phone, _ = phone_signs_in(caregiver_user)
    assert new_phone.get(ME).status_code == 200
    assert old_phone.get(ME).status_code == 401


@pytest.mark.django_db
def test_a_password_changed_in_the_admin_ends_the_token(caregiver_user, bureau_user, client):
    phone, _ = phone_signs_in(caregiver_user)
    client.force_login(bureau_user)
    new = "Another-Pass-2027"
    response = client.post(
        reverse("admin:auth_user_password_change", args=[caregiver_user.pk]),
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert phone.get(ME).status_code == 401
    phone, _ = phone_signs_in(caregiver_user, new)
    assert phone.get(ME).status_code == 200


@pytest.mark.django_db
def test_a_password_changed_any_other_way_ends_the_token_too(caregiver_user):
    phone, _ = phone_signs_in(caregiver_user)
    user = User.objects.get(pk=caregiver_user.pk)
    user.set_password("Changed-In-A-Shell-1")  # `manage.py changepassword` does just this
    user.save()
    assert phone.get(ME).status_code == 401


@pytest.mark.django_db
def test_the_admin_cannot_make_up_a_token(bureau_user, client):
    client.force_login(bureau_user)
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 403


# --- deactivation ----------------------------------------------------------------------------------------------


def admin_form_as_is(client, url):
    """The POST data of an admin change form as it stands (what pressing 保存 without a change would send)."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = list(value)
        elif value is not None:
            data[name] = value
    return data


def assert_shut_out(caregiver_user, browser, phone):
    assert signed_out(browser)
    assert phone.get(ME).status_code == 401
    assert not Session.objects.filter(session_key=browser.session.session_key).exists()
    assert not Token.objects.filter(user=caregiver_user).exists()
    assert not User.objects.get(pk=caregiver_user.pk).is_active
    assert SecurityEvent.objects.filter(kind="deactivated", detail__target=caregiver_user.username).exists()


@pytest.mark.django_db
def test_a_caregiver_who_leaves_is_shut_out_at_once_by_their_provider(caregiver, caregiver_user, provider_user):
    browser, (phone, _) = browser_signs_in(caregiver_user), phone_signs_in(caregiver_user)
    office = Client()
    office.force_login(provider_user)

    response = office.post(
        reverse("contracts:caregiver_deactivate", args=[caregiver.pk]), {"left_on": "2026-11-30"}, follow=True
    )

    assert "已离职" in response.content.decode()
    assert_shut_out(caregiver_user, browser, phone)
    caregiver.refresh_from_db()
    assert (caregiver.is_active, caregiver.left_on) == (False, datetime.date(2026, 11, 30))


@pytest.mark.django_db
def test_a_caregiver_unticked_in_the_admin_is_shut_out_at_once(caregiver, caregiver_user, bureau_user, client):
    browser, (phone, _) = browser_signs_in(caregiver_user), phone_signs_in(caregiver_user)
    client.force_login(bureau_user)
    url = f"/admin/contracts/caregiver/{caregiver.pk}/change/"
    data = admin_form_as_is(client, url)
    data.pop("is_active")  # unticked: 在岗 no more

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert_shut_out(caregiver_user, browser, phone)
    assert Caregiver.objects.get(pk=caregiver.pk).left_on == timezone.localdate()


@pytest.mark.django_db
def test_a_login_unticked_in_the_user_admin_is_shut_out_at_once(caregiver_user, bureau_user, client):
    browser, (phone, _) = browser_signs_in(caregiver_user), phone_signs_in(caregiver_user)
    client.force_login(bureau_user)
    url = f"/admin/shenxian_care/user/{caregiver_user.pk}/change/"
    data = admin_form_as_is(client, url)
    data.pop("is_active")
    data.pop("password", None)  # the hash is shown read-only
    joined = timezone.localtime(data.pop("date_joined"))
    data.update(date_joined_0=f"{joined:%Y-%m-%d}", date_joined_1=f"{joined:%H:%M:%S}")

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert_shut_out(caregiver_user, browser, phone)


@pytest.mark.django_db
def test_the_admin_actions_shut_out_at_once(caregiver, caregiver_user, bureau_user, client):
    browser, (phone, _) = browser_signs_in(caregiver_user), phone_signs_in(caregiver_user)
    client.force_login(bureau_user)
    response = client.post(
        "/admin/contracts/caregiver/", {"action": "deactivate_selected", "_selected_action": [caregiver.pk]}
    )
    assert response.status_code == 302
    assert_shut_out(caregiver_user, browser, phone)


@pytest.mark.django_db
def test_the_user_admin_action_shuts_out_at_once(town_user, bureau_user, client):
    browser = Client()
    browser.post(reverse("login"), {"username": town_user.username, "password": PASSWORD})
    assert browser.get(reverse("portal:home")).status_code == 200
    phone, _ = phone_signs_in(town_user)
    client.force_login(bureau_user)
    client.post("/admin/shenxian_care/user/", {"action": "deactivate_selected", "_selected_action": [town_user.pk]})
    assert browser.get(reverse("portal:home")).status_code == 302
    assert phone.get("/api/v1/recipients/").status_code == 401


@pytest.mark.django_db
def test_a_provider_cannot_deactivate_another_providers_caregiver(caregiver, caregiver_user, other_provider_user):
    office = Client()
    office.force_login(other_provider_user)
    response = office.post(reverse("contracts:caregiver_deactivate", args=[caregiver.pk]), {"left_on": "2026-11-30"})
    assert response.status_code == 404
    assert User.objects.get(pk=caregiver_user.pk).is_active


@pytest.mark.django_db
def test_provider_staff_may_deactivate_only_their_own_caregivers_logins(provider_user, town_user):
    from shenxian_care.actions import user_deactivate

    with pytest.raises(Exception, match="只能停用本机构"):
        user_deactivate(actor=provider_user, user=town_user)
    assert User.objects.get(pk=town_user.pk).is_active


# --- one password policy -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "123456789012", "caregiver-li-1"])
def test_a_provider_setting_a_caregivers_password_meets_the_policy(provider_user, client, weak):
    client.force_login(provider_user)
    response = client.post(
        reverse("contracts:caregiver_create"),
        {
            "name": "赵新",
            "id_number": ID_NUMBER,
            "phone": "13800001111",
            "hired_on": "2026-11-01",
            "username": "caregiver-li",
            "password": weak,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get("password"), response.context["form"].errors
    assert not User.objects.filter(username="caregiver-li").exists()


@pytest.mark.django_db
def test_the_caregiver_action_refuses_a_weak_password(provider_user):
    from contracts.actions import caregiver_create

    with pytest.raises(ApplicationError) as refused:
        caregiver_create(
            actor=provider_user,
            name="赵新",
            id_number=ID_NUMBER,
            phone="13800001111",
            hired_on=datetime.date(2026, 11, 1),
            username="zhao-xin",
            password="aaaaaaaaaaaa",
        )
    assert refused.value.field == "password"
    caregiver = caregiver_create(
        actor=provider_user,
        name="赵新",
        id_number=ID_NUMBER,
        phone="13800001111",
        hired_on=datetime.date(2026, 11, 1),
        username="zhao-xin",
        password="Zhao-Xin-Strong-26",
    )
    assert caregiver.user.check_password("Zhao-Xin-Strong-26")
