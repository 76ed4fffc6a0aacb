"""The permission matrix, generated from the URL conf: every named URL has a rule here, so a new page or
endpoint without one fails this test. For each role × each page, API list, admin list and export, the
allowed ones work and the rest are refused (403/404, or the sign-in page), with no data leaked."""

import datetime
import re

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse

from shenxian_care.models import Role
from tests.factories import (
    AgreementFactory,
    CaregiverFactory,
    ContractFactory,
    ProviderFactory,
    RecipientFactory,
    UserFactory,
    VillageFactory,
    town,
)

B, F, T, P, C = "bureau", "finance", "town", "provider", "caregiver"
SIGNED_IN = {B, F, T, P, C}

# Portal pages (GET without arguments): the roles that may open them.
PAGES = {
    "portal:home": {B, F, T, P},  # a caregiver lands on the day (LANDS)
    "portal:export_list": {B, F, T, P},
    "recipients:recipient_list": {B, T, P},
    "recipients:roster_upload": {B},
    "recipients:roster_template": {B},
    "recipients:approval_list": {B},
    "recipients:report_list": {T},
    "contracts:agreement_list": {B, T, P},
    "contracts:agreement_create": {B, P},
    "contracts:caregiver_list": {B, T, P},
    "contracts:caregiver_create": {B, P},
    "contracts:notice_list": {B, P},
    "services:caregiver_day": {C},
    "services:dashboard": {B, T, P},
    "services:dashboard_json": {B, T, P},
    "services:compliance_report": {B, T, P},
    "services:exception_queue": {B, T, P},
    "services:correction_queue": {B, T, P},
    "services:gps_rules": {B, T, P},
    "services:card_list": {B, T},
    "services:plan": {B, P},
    "supervision:evaluation_list": {B, T, P},
    "supervision:evaluation_missing": {B, T},
    "supervision:problem_list": {B, T, P},
    "supervision:problem_report": {B, T},
    "supervision:rectification_list": {B, T, P},
    "supervision:rectification_issue": {B},
    "supervision:complaint_list": {B, T, P},
    "supervision:complaint_create": {B},
    "supervision:spot_check_list": {B, T},
    "supervision:spot_check_record": {B, T},
    "supervision:spot_check_draw": {B},
    "supervision:crosscheck": {B},
    "supervision:review_list": {B},
    "supervision:termination": {B},
    "supervision:deductions": {B},
    "billing:settlement_list": {B, F, P},
}

# Pages that send a role straight on to its own page.
LANDS = {("portal:home", C): "services:caregiver_day"}

# API lists and documents: every signed-in role may ask; what each gets is scoped (checked for leaks below).
API = {
    "api-root", "schema", "api-docs", "api-redoc",
    "town-list", "village-list", "recipient-list", "assessment-list",
    "provider-list", "rate-list", "contract-list", "caregiver-list", "agreement-list",
    "visit-list", "visit-today",
    "supervision-evaluation-list", "supervision-evaluation-missing", "supervision-serious-problem-list",
    "supervision-rectification-list", "supervision-complaint-list", "supervision-spot-check-list",
    "supervision-spot-check-draw-list", "supervision-review-list", "supervision-notification-list",
    "supervision-cross-check-hit-list", "supervision-takeover-list",
    "settlement-list", "settlement-provider-list", "settlement-line-list", "settlement-payment-list",
}  # fmt: skip
QUERY = {"supervision-evaluation-missing": "?month=2026-10-01"}

# Writes only: a GET is refused for everyone.
POST_ONLY = {
    "logout", "recipients:recipient_find", "services:compliance_export",
    "supervision:evaluation_remind", "supervision:evaluation_start", "supervision:review_start",
    "contracts:notice_mark_read",
    "recipients:assessment_decide_batch", "recipients:exit_decide_batch",
    "api-sign-in", "recipient-find", "visit-check-in", "visit-emergency", "visit-sync",
    "supervision-evaluation-start", "supervision-cross-check-hit-import-list",
}  # fmt: skip

# Open to anyone: the sign-in page, the front door (a redirect), the caregivers' offline service worker.
PUBLIC = {"login", "home", "services:service_worker", "healthz"}


def url_names():
    """Every named URL outside the admin, with whether it takes arguments (other than a format suffix)."""
    found = {}

    def walk(resolver, namespace="", prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern, ns, prefix + str(pattern.pattern))
            elif pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                route = prefix + str(pattern.pattern)
                args = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
                args = {a or b for a, b in args} - {"format"}
                found.setdefault(name, set()).update(args)
        return found

    return {name: args for name, args in walk(get_resolver()).items() if not name.startswith("admin:")}


def test_every_url_has_a_rule():
    names = url_names()
    without_arguments = {n for n, args in names.items() if not args}
    ruled = set(PAGES) | API | POST_ONLY | PUBLIC
    assert without_arguments - ruled == set(), "new URL without a permission rule: add it to the matrix"
    assert ruled - without_arguments == set(), "rule for a URL that no longer exists"


@pytest.fixture
def world(db):
    """Users of every role in 燕塔街道 / provider A, and a sentinel person in 朝城镇 served by provider B that
    none of them but bureau staff may ever see."""
    mine, theirs = ProviderFactory(), ProviderFactory()
    ContractFactory(provider=mine, towns=[town("燕塔街道")])
    ContractFactory(provider=theirs, towns=[town("朝城镇")])
    own = RecipientFactory(village=VillageFactory(town=town("燕塔街道")), name="本镇某人")
    sentinel = RecipientFactory(village=VillageFactory(town=town("朝城镇")), name="泄露哨兵")
    caregiver = CaregiverFactory(provider=mine, user=UserFactory(username="m-c", role=Role.CAREGIVER))
    AgreementFactory(recipient=own, provider=mine, caregiver=caregiver)
    AgreementFactory(recipient=sentinel, provider=theirs, start_date=datetime.date(2024, 1, 1))
    return {
        B: UserFactory(username="m-b", role=Role.BUREAU, is_staff=True),
        F: UserFactory(username="m-f", role=Role.FINANCE),
        T: UserFactory(username="m-t", role=Role.TOWN, town=town("燕塔街道")),
        P: UserFactory(username="m-p", role=Role.PROVIDER, provider=mine),
        C: caregiver.user,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_pages_open_for_their_roles_and_are_refused_to_the_rest(world, client, role):
    client.force_login(world[role])
    for name, allowed in PAGES.items():
        response = client.get(reverse(name))
        if (name, role) in LANDS:
            assert response.status_code == 302 and response.url == reverse(LANDS[name, role])
        elif role in allowed:
            assert response.status_code == 200, f"{role} should open {name}"
        else:
            assert response.status_code in (403, 404), f"{role} must not open {name} (got {response.status_code})"
        if role != B:
            assert "泄露哨兵" not in response.content.decode(errors="replace"), f"{name} leaks to {role}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_api_lists_answer_every_role_with_only_its_own_data(world, client, role):
    client.force_login(world[role])
    for name in sorted(API):
        response = client.get(reverse(name) + QUERY.get(name, ""))
        assert response.status_code == 200, f"{role} on {name}: {response.status_code}"
        if role != B and name not in ("schema", "api-docs", "api-redoc", "api-root"):
            assert "泄露哨兵" not in response.content.decode(), f"{name} leaks to {role}"


@pytest.mark.django_db
def test_nothing_but_the_public_pages_opens_without_signing_in(world, client):
    for name in sorted(set(PAGES) | API):
        response = client.get(reverse(name) + QUERY.get(name, ""))
        assert response.status_code in (302, 401, 403), f"{name} is open to anonymous users"
        if response.status_code == 302:
            assert "/accounts/login/" in response.url
    for name in PUBLIC:
        # /healthz is open and answers 503 while no worker or beat has reported (as in the test run)
        assert client.get(reverse(name)).status_code in ((200, 302, 503) if name == "healthz" else (200, 302))


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_post_only_urls_refuse_a_get(world, client, role):
    client.force_login(world[role])
    for name in POST_ONLY:
        assert client.get(reverse(name)).status_code in (403, 405), name


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_object_urls_never_show_what_does_not_exist_or_break(world, client, role):
    """Every URL that names an object answers an unknown one with 404 (or 403/405), never 200 or 500."""
    client.force_login(world[role])
    for name, args in url_names().items():
        if not args:
            continue
        kwargs = {a: "00000000-0000-4000-8000-000000000000" if a == "client_id" else 987654 for a in args}
        if "sheet" in kwargs:
            kwargs["sheet"] = "detail"
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code in (403, 404, 405), f"{role} on {name}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_admin_lists_are_for_bureau_staff_only(world, client, role):
    user = world[role]
    user.is_staff = True  # even with the box ticked by mistake, the role decides
    user.save()
    client.force_login(user)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        if role == B:
            assert response.status_code == 200, url
        else:
            assert response.status_code in (302, 403), f"{role} opened {url}"
            assert "泄露哨兵" not in response.content.decode(errors="replace")
