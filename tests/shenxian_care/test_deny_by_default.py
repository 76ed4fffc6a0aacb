"""Deny by default: a login that nobody has given a role sees nothing and may do nothing, anywhere (pages, API,
admin), rather than everything (the role used to default to the bureau's)."""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from shenxian_care.models import Role, User
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role, scope_key
from tests.factories import UserFactory
from tests.test_permission_matrix import API, PAGES, QUERY, county, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("world")  # the permission matrix's county: every role, and a sentinel person
DOCUMENTS = {"schema", "api-docs", "api-redoc", "api-root"}


@pytest.fixture
def no_role_user(db):
    # made the way the admin's "add user" form or `createsuperuser`-less scripts make one: no role named
    return User.objects.create_user(username="new-hire", password="Shenxian-2026-pass")


@pytest.mark.django_db
def test_a_new_login_has_no_role_and_no_scope(no_role_user):
    assert no_role_user.role == ""
    assert actor_role(no_role_user) is None
    assert scope_key(no_role_user) == ""
    with pytest.raises(PermissionDenied):
        ensure_role(no_role_user, *Role.values)


@pytest.mark.django_db
def test_the_test_factorys_default_user_is_the_least_privileged():
    assert actor_role(UserFactory()) is None


@pytest.mark.django_db
def test_no_role_opens_no_portal_page(no_role_user, client):
    client.force_login(no_role_user)
    for name in PAGES:
        if name == "portal:home":
            continue  # the front page says who you are and nothing else
        response = client.get(reverse(name))
        assert response.status_code in (403, 404), f"a login without a role opened {name}"
    assert "泄露哨兵" not in client.get(reverse("portal:home")).content.decode()


@pytest.mark.django_db
def test_no_role_gets_empty_api_lists(no_role_user, api_as):
    api = api_as(no_role_user)
    for name in sorted(API - DOCUMENTS):
        response = api.get(reverse(name) + QUERY.get(name, ""))
        if response.status_code in (403, 404):
            continue
        assert response.status_code == 200, f"{name}: {response.status_code}"
        body = response.json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        assert not rows, f"a login without a role reads {name}"


@pytest.mark.django_db
def test_no_role_gets_404_on_real_objects(no_role_user, api_as, client_as):
    from recipients.models import Recipient

    sentinel = Recipient.objects.get(name="泄露哨兵乙")
    agreement = sentinel.agreements.get()
    api = api_as(no_role_user)
    assert api.get(f"/api/v1/recipients/{sentinel.pk}/").status_code == 404
    assert api.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 404
    assert api.post(f"/api/v1/recipients/{sentinel.pk}/reveal-id-number/").status_code in (403, 404)
    page = client_as(no_role_user).get(reverse("recipients:recipient_detail", args=[sentinel.pk]))
    assert page.status_code in (403, 404)
    assert "泄露哨兵" not in page.content.decode()


@pytest.mark.django_db
def test_no_role_stays_out_of_the_admin_even_as_staff(no_role_user, client):
    no_role_user.is_staff = True
    no_role_user.save()
    client.force_login(no_role_user)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code in (302, 403), f"a login without a role opened {url}"


@pytest.mark.django_db
def test_no_role_writes_nothing_through_the_api(no_role_user, api_as):
    from recipients.models import Recipient

    sentinel = Recipient.objects.get(name="泄露哨兵乙")
    api = api_as(no_role_user)
    attempts = {
        "/api/v1/caregivers/": {"name": "某", "id_number": "x", "phone": "1", "hired_on": "2026-11-01"},
        "/api/v1/assessments/": {"recipient": sentinel.pk},
        "/api/v1/agreements/": {"recipient": sentinel.pk, "caregiver": 1, "start_date": "2026-12-01"},
        f"/api/v1/recipients/{sentinel.pk}/reveal-id-number/": {},
    }
    for url, body in attempts.items():
        response = api.post(url, body, format="json")
        assert response.status_code in (400, 403, 404), f"{url}: {response.status_code}"
        assert sentinel.id_number not in response.content.decode()
