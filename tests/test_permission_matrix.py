"""The permission matrix, generated from the URL conf: every named URL has a rule here, so a new page or
endpoint without one fails this test. For each role × each page, API list, admin list and export, the
allowed ones work and the rest are refused (403/404, or the sign-in page), with no data leaked."""

import datetime
import re
import uuid

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from shenxian_care.models import ExportJob
from shenxian_care.privacy import mask_id_number
from tests import permission_world as w
from tests.permission_world import build_world

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


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    """The world of tests/permission_world.py, built once for the module inside a transaction that is rolled back
    afterwards; each test runs in a savepoint inside it (pytest-django's `db`), so nothing a test does stays."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(db, county):
    """The signed-in roles of side a; the sentinel person of side b is 泄露哨兵乙."""
    return {B: county.bureau, F: county.finance, T: county.a.users.town, P: county.a.users.provider,
            C: county.a.users.caregiver}  # fmt: skip


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
        if role not in (B, F):  # finance reads settlements, which name the people (test_reading_… checks finance)
            assert "泄露哨兵" not in response.content.decode(errors="replace"), f"{name} leaks to {role}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_api_lists_answer_every_role_with_only_its_own_data(world, client, role):
    client.force_login(world[role])
    for name in sorted(API):
        response = client.get(reverse(name) + QUERY.get(name, ""))
        assert response.status_code == 200, f"{role} on {name}: {response.status_code}"
        if role not in (B, F) and name not in ("schema", "api-docs", "api-redoc", "api-root"):
            assert "泄露哨兵" not in response.content.decode(), f"{name} leaks to {role}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_the_api_opened_in_a_browser_shows_only_its_own_data_too(world, client, role):
    """DRF's browsable API (the lists opened in a browser, or ?format=api) draws no forms: a form's choices of a
    related field or a filter would list every recipient and provider of the county, not the viewer's."""
    client.force_login(world[role])
    for name in sorted(API - {"schema", "api-docs", "api-redoc"}):
        url = reverse(name) + QUERY.get(name, "")
        for asked, headers in (
            (url, {"HTTP_ACCEPT": "text/html"}),
            (url + ("&" if "?" in url else "?") + "format=api", {}),
        ):
            response = client.get(asked, **headers)
            assert response.status_code == 200, f"{role} on {name}: {response.status_code}"
            assert response["Content-Type"].startswith("text/html"), name
            if role not in (B, F):
                page = response.content.decode()
                assert "泄露哨兵" not in page and "乙方哨兵" not in page, f"{name} in a browser leaks to {role}"
        # nor does what a write would take (OPTIONS: the fields, never a related field's choices)
        described = client.options(url)
        assert described.status_code == 200, f"{role} OPTIONS {name}: {described.status_code}"
        if role not in (B, F):
            text = described.content.decode()
            assert "泄露哨兵" not in text and "乙方哨兵" not in text, f"OPTIONS {name} leaks to {role}"


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
    user = type(world[role]).objects.get(pk=world[role].pk)  # a copy: the module's world stays as built
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


# --- The full matrix: every URL and API operation, as every actor, against the other side's real objects -------
#
# Actors (tests/permission_world.py): bureau staff, finance, side a's town official, provider staff and caregiver,
# a login with no role, a deactivated login, provider X (contract terminated) and caregiver Y (agreement ended).
# The objects tried are side b's (朝城镇, provider B, caregiver B, recipient 泄露哨兵乙), which only bureau staff
# may see, with the exceptions finance reads (FINANCE_READS).

ACTORS = [w.BUREAU, w.FINANCE, w.TOWN, w.PROVIDER, w.CAREGIVER, w.NO_ROLE, w.INACTIVE, w.ENDED_PROVIDER,
          w.ENDED_CAREGIVER]  # fmt: skip
NOT_BUREAU = [a for a in ACTORS if a != w.BUREAU]

# Which of side b's objects a portal URL names, by URL argument.
PORTAL_OBJECTS = {
    "portal:export_detail": {"pk": "export"},
    "portal:export_progress": {"pk": "export"},
    "portal:export_download": {"pk": "export"},
    "recipients:recipient_detail": {"pk": "recipient"},
    "recipients:recipient_reveal_id": {"pk": "recipient"},
    "recipients:assessment_report": {"pk": "recipient"},
    "recipients:exit_report": {"pk": "recipient"},
    "recipients:roster_preview": {"pk": "roster"},
    "recipients:roster_progress": {"pk": "roster"},
    "recipients:assessment_decide": {"pk": "assessment"},
    "recipients:exit_decide": {"pk": "exit"},
    "contracts:agreement_detail": {"pk": "agreement"},
    "contracts:agreement_print": {"pk": "agreement"},
    "contracts:caregiver_deactivate": {"pk": "caregiver"},
    "services:caregiver_check_in": {"recipient_id": "recipient"},
    "services:caregiver_emergency": {"recipient_id": "recipient"},
    "services:caregiver_check_out": {"client_id": "visit"},
    "services:caregiver_confirm": {"client_id": "visit"},
    "services:visit_detail": {"client_id": "visit"},
    "services:visit_photo": {"pk": "photo"},
    "services:card_issue": {"recipient_id": "recipient"},
    "services:card_revoke": {"recipient_id": "recipient"},
    "supervision:evaluation_detail": {"pk": "evaluation"},
    "supervision:evaluation_return": {"pk": "evaluation"},
    "supervision:notification_read": {"pk": "notification"},
    "supervision:problem_detail": {"pk": "problem"},
    "supervision:problem_photo": {"pk": "problem", "photo": "problem_photo"},
    "supervision:rectification_detail": {"pk": "rectification"},
    "supervision:complaint_detail": {"pk": "complaint"},
    "supervision:spot_check_draw_detail": {"pk": "draw"},
    "supervision:crosscheck_batch": {"pk": "crosscheck_batch"},
    "supervision:review_detail": {"pk": "review"},
    "supervision:takeover": {"pk": "review"},
    "supervision:takeover_report": {"pk": "takeover"},
    "billing:settlement_detail": {"pk": "settlement"},
    "billing:settlement_progress": {"pk": "settlement"},
    "billing:settlement_lines": {"pk": "settlement"},
    "billing:settlement_download": {"pk": "settlement"},
    "billing:settlement_download_sheet": {"pk": "settlement", "sheet": "detail"},
    "billing:settlement_confirm": {"pk": "settlement"},
    "billing:settlement_recompute": {"pk": "settlement"},
    "billing:settlement_discard": {"pk": "settlement"},
    "billing:settlement_payments": {"pk": "settlement"},
    "billing:settlement_proposals": {"pk": "settlement"},
}

# Which kind of object an API path names, by its prefix under /api/v1/.
API_OBJECTS = {
    "towns": "town", "villages": "village", "recipients": "recipient", "assessments": "assessment",
    "providers": "provider", "contracts": "contract", "caregivers": "caregiver", "agreements": "agreement",
    "visits": "visit", "supervision/evaluations": "evaluation", "supervision/serious-problems": "problem",
    "supervision/rectifications": "rectification", "supervision/complaints": "complaint",
    "supervision/spot-checks": "spot_check", "supervision/spot-check-draws": "draw", "supervision/reviews": "review",
    "supervision/notifications": "notification", "supervision/cross-check-hits": "crosscheck_hit",
    "supervision/takeovers": "takeover", "settlements": "settlement", "settlements/lines": "line",
    "settlements/payments": "payment", "settlements/providers": "provider_settlement",
}  # fmt: skip
# Reference data the same for everyone: not one side's.
UNSIDED = {"rates"}

# What the finance bureau reads of side b (settlements, payments, contracts and what they name).
FINANCE_READS = {"town", "village", "provider", "contract", "settlement", "provider_settlement", "line", "payment"}
# Objects shared by both sides: provider staff open the month's settlement and see their own part of it.
SHARED = {w.PROVIDER: {"settlement"}, w.ENDED_PROVIDER: {"settlement"}}
# Query parameters that name one side's object, and the kind they name.
FILTER_OBJECTS = {
    "town": "town", "village": "village", "provider": "provider", "recipient": "recipient", "caregiver": "caregiver",
    "settlement": "settlement", "batch": "crosscheck_batch", "draw": "draw", "agreement": "agreement",
    "spot_check": "spot_check", "serious_problem": "problem", "complaint": "complaint",
}  # fmt: skip

SCHEMA = None


def schema_operations():
    """(method, path template, query parameter names) of every operation of the OpenAPI schema."""
    global SCHEMA
    if SCHEMA is None:
        from drf_spectacular.generators import SchemaGenerator

        SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                yield method, path, query


def object_id(obj):
    return str(obj.client_id) if hasattr(obj, "client_id") and obj._meta.model_name == "visit" else obj.pk


def api_path_of(path, side):
    """The schema path with side b's object in it (None for a path without one); and the kind of that object."""
    if "{" not in path:
        return None, None
    prefix = re.match(r"^/api/v1/(.+?)/\{", path).group(1)
    if prefix in UNSIDED:
        return None, None
    kind = API_OBJECTS[prefix]
    return re.sub(r"\{\w+\}", str(object_id(side[kind])), path, count=1), kind


def sentinels_for(county, actor):
    """What this actor must never read: side b's person, caregiver and provider; for the ended provider and
    caregiver, their former recipient's person too (their own visit and billing history may still name them)."""
    b = county.b
    private = [b.recipient.id_number, "泄露巷99号", b.recipient.phone]  # never shown to anyone but bureau staff
    if actor == w.FINANCE:  # reads every settlement line and payment: names, masked ID numbers, payees
        return private
    found = [*b.recipient.sentinels, b.caregiver.name, b.provider.name]
    if actor in county.former:  # their own agreements and billing history may still name the person (masked)
        former = county.former[actor].recipient
        found += [former.id_number, former.address, former.phone]
    return found


def leaks(response, sentinels):
    content = getattr(response, "content", b"")
    if not content and hasattr(response, "streaming_content"):
        content = b"".join(response.streaming_content)
    text = content.decode(errors="replace")
    return [s for s in sentinels if s in text]


def visible(actor, kind):
    return actor == w.BUREAU or (actor == w.FINANCE and kind in FINANCE_READS) or kind in SHARED.get(actor, ())


def refused(response):
    if response.status_code in (401, 403, 404, 405):
        return True
    chain = getattr(response, "redirect_chain", None)
    if chain:  # followed: it ended on the sign-in page
        return reverse("login") in chain[-1][0]
    return response.status_code == 302 and reverse("login") in response.url


def snapshot():
    """Every row of every table but the few a refused request may legitimately touch (the session, the
    security log, the user's last sign-in time)."""
    skip_tables = {"django_session", "shenxian_care_securityevent", "shenxian_care_usersession", "auditlog_logentry"}
    rows = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table in skip_tables or table.startswith("axes_"):
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # nosec B608 - table names from the introspection
            columns = [c[0] for c in cursor.description]
            keep = [i for i, c in enumerate(columns) if c != "last_login"]
            rows[table] = sorted(repr([row[i] for i in keep]) for row in cursor.fetchall())
    return rows


def changed_tables(before, after):
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def hostile_body(county):
    """A write's fields, each naming side b's records where a field names one."""
    b, now = county.b, timezone.now()
    return {
        "recipient": b.recipient.pk, "recipient_id": b.recipient.pk, "town": b.town.pk, "village": b.village.pk,
        "provider": b.provider.pk, "new_provider": b.provider.pk, "caregiver": b.caregiver.pk,
        "agreement": b.agreement.pk, "contract": b.contract.pk, "settlement": b.settlement.pk,
        "spot_check": b.spot_check.pk, "serious_problem": b.problem.pk, "complaint": b.complaint.pk,
        "visit": b.visit.pk, "visit_client_id": str(b.visit.client_id), "client_id": str(uuid.uuid4()),
        "ids": [b.notice.pk, b.assessment.pk, b.exit.pk, b.notification.pk], "month": "2026-10",
        "problem": "越权写入", "description": "越权写入", "content": "越权写入", "reason": "越权写入",
        "answer": "越权写入", "summary": "越权写入", "note": "越权写入", "name": "越权写入", "finding": "越权写入",
        "deadline": (now + datetime.timedelta(days=9)).date().isoformat(), "occurred_on": "2026-11-01",
        "checked_on": "2026-11-02", "effective_date": "2026-12-01", "assessed_on": "2026-11-02",
        "started_at": (now - datetime.timedelta(minutes=50)).isoformat(), "ended_at": now.isoformat(),
        "latitude": float(b.recipient.home_latitude), "longitude": float(b.recipient.home_longitude),
        "accept": True, "approve": True, "decision": "terminate", "method": "onsite", "result": "problem",
        "channel": "family", "route_to": "provider", "category": "quality", "code": "123456",
        "paid_on": "2026-11-20", "voucher_number": "越权1", "service_items": ["daily_cleaning"],
        "takeover_date": "2026-12-10", "size": 1, "last_day": "2026-11-30", "left_on": "2026-11-30",
        "items": [], "scores": {}, "report_false_data": True, "level": "full",
    }  # fmt: skip


def portal_urls(county):
    """Every named portal URL with side b's objects in its arguments: (name, url, kind or None)."""
    for name, args in url_names().items():
        if name in PUBLIC or name in API or name.startswith(("api-", "schema")) or "-" in name:
            continue
        if not args:
            yield name, reverse(name), None
            continue
        names = PORTAL_OBJECTS[name]
        kwargs = {arg: (names[arg] if arg == "sheet" else object_id(county.b[names[arg]])) for arg in args}
        yield name, reverse(name, kwargs=kwargs), names.get("pk") or names.get("recipient_id") or names["client_id"]


def test_every_object_url_says_which_object_it_names():
    with_objects = {n for n, args in url_names().items() if args and "-" not in n}
    assert with_objects == set(PORTAL_OBJECTS), "add the URL's objects to PORTAL_OBJECTS"
    for _method, path, _query in schema_operations():
        if "{" in path:
            prefix = re.match(r"^/api/v1/(.+?)/\{", path).group(1)
            assert prefix in API_OBJECTS or prefix in UNSIDED, f"add {prefix} to API_OBJECTS"


class Tally:
    """Counts the matrix's requests (reported in the README) and collects what went wrong, so one run names
    every failure rather than the first."""

    counts = {}

    def __init__(self, test):
        self.test, self.failures = test, []

    def request(self, client, method, url, **kwargs):
        Tally.counts[self.test] = Tally.counts.get(self.test, 0) + 1
        response = getattr(client, method)(url, **kwargs)
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {url} → {response.status_code}")
        return response

    def check(self, ok, message):
        if not ok:
            self.failures.append(message)

    def done(self):
        assert not self.failures, f"{len(self.failures)} failure(s):\n" + "\n".join(self.failures[:60])


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    yield
    if Tally.counts:
        out = settings.BASE_DIR / "test-artifacts" / "permission-matrix.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{test}: {n}" for test, n in sorted(Tally.counts.items())]
        out.write_text("\n".join([*lines, f"total: {sum(Tally.counts.values())}", ""]), encoding="utf-8")


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_reading_the_other_sides_objects(county, client, actor):
    """GET every portal URL and every API read, as `actor`, with side b's real objects in the path: refused
    (403/404, or the sign-in page) unless the actor may see that kind of object, and nothing of side b's in
    any answer but bureau staff's."""
    tally, sentinels = Tally(f"read as {actor}"), sentinels_for(county, actor)
    client.force_login(county.actors[actor])
    for name, url, kind in portal_urls(county):
        response = tally.request(client, "get", url)
        if kind is not None and not visible(actor, kind):
            tally.check(refused(response), f"{actor} opened {name} of side b: {response.status_code}")
        if kind == "export":  # downloaded only by whoever asked for it, bureau staff included
            tally.check(refused(response), f"{actor} reached another's export {name}")
            tally.check(actor != w.BUREAU or response.status_code == 404, f"bureau reached another's export {name}")
        elif actor == w.BUREAU and kind is not None:
            tally.check(response.status_code in (200, 302, 405), f"bureau on {name}: {response.status_code}")
        if actor != w.BUREAU:
            tally.check(not leaks(response, sentinels), f"{name} shows {leaks(response, sentinels)} to {actor}")
    for method, path, _query in schema_operations():
        if method != "get":
            continue
        url, kind = api_path_of(path, county.b)
        url = url or path
        if "{" in url:  # rates: reference data
            continue
        response = tally.request(client, "get", url + QUERY.get(path, ""))
        if kind is not None and not visible(actor, kind):
            tally.check(refused(response), f"{actor} read {url} ({kind} of side b): {response.status_code}")
        if actor == w.BUREAU and kind is not None:
            tally.check(response.status_code == 200, f"bureau on {url}: {response.status_code}")
        if actor != w.BUREAU and path not in ("/api/schema/",):
            tally.check(not leaks(response, sentinels), f"{url} shows {leaks(response, sentinels)} to {actor}")
    tally.done()


@pytest.mark.django_db
@pytest.mark.parametrize("actor", NOT_BUREAU)
def test_filtering_lists_by_the_other_sides_ids(county, client, actor):
    """Every list, in the portal and the API, filtered by side b's town, provider, recipient, caregiver, ...:
    a filter is a narrowing, never a way round the scope."""
    tally, sentinels = Tally(f"filtered lists as {actor}"), sentinels_for(county, actor)
    client.force_login(county.actors[actor])
    every = {param: object_id(county.b[kind]) for param, kind in FILTER_OBJECTS.items()}
    for name in PAGES:  # every filter a page might take, at once (a page ignores those it has not)
        response = tally.request(client, "get", reverse(name), data=every)
        tally.check(not leaks(response, sentinels), f"{name}?… shows {leaks(response, sentinels)}")
    for method, path, query in schema_operations():
        if method != "get" or "{" in path:
            continue
        for param in set(query) & set(FILTER_OBJECTS):
            response = tally.request(client, "get", path, data={param: every[param]})
            tally.check(not leaks(response, sentinels), f"{path}?{param}= shows {leaks(response, sentinels)}")
    tally.done()


# A write statement, and the table it writes.
WRITE_SQL = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# What a refused request may still write: its session, the security log, the audit of a refusal.
MAY_WRITE = {"django_session", "shenxian_care_securityevent", "shenxian_care_usersession", "auditlog_logentry"}
# ... and an export of the actor's own data (checked to be theirs).
EXPORT_TABLES = {"shenxian_care_exportjob", "shenxian_care_outboxtask", "shenxian_care_jobprogress"}


def tables_written(queries, allowed=frozenset()):
    written = set()
    for query in queries:
        match = WRITE_SQL.match(query["sql"])
        if match and match.group(1) not in MAY_WRITE | allowed and not match.group(1).startswith("axes_"):
            written.add(match.group(1))
    return sorted(written)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", NOT_BUREAU)
def test_writing_to_the_other_sides_objects(county, client, actor):
    """POST to every portal URL, and POST/PUT/PATCH/DELETE to every API operation, as `actor`, naming side b's
    objects in the path and in every field: refused, and not one row of the database changed (no write statement
    in any request; and the whole database compared before and after)."""
    tally, sentinels, body = Tally(f"writes as {actor}"), sentinels_for(county, actor), hostile_body(county)
    user = county.actors[actor]
    client.force_login(user)
    before = start = snapshot()

    def send(what, method, url, allowed=frozenset(), **kwargs):
        nonlocal before
        with CaptureQueriesContext(connection) as queries:
            response = tally.request(client, method, url, **kwargs)
        if tables_written(queries.captured_queries, allowed):  # a write statement: did it change a row?
            now = snapshot()
            changed = [t for t in changed_tables(before, now) if t not in allowed]
            tally.check(not changed, f"{actor}: {what} changed {changed} ({response.status_code})")
            before = now
        tally.check(not leaks(response, sentinels), f"{what} shows {leaks(response, sentinels)} to {actor}")
        return response

    for name, url, kind in portal_urls(county):
        if name == "logout":
            continue
        own_export = name in OWN_EXPORTS
        response = send(f"POST {name}", "post", url, EXPORT_TABLES if own_export else frozenset(), data=body)
        if kind is not None and not visible(actor, kind):
            tally.check(refused(response), f"{actor} posted to {name} of side b: {response.status_code}")
    for method, path, _query in schema_operations():
        if path == "/api/v1/auth/token/":
            continue
        url, kind = api_path_of(path, county.b)
        url = url or path
        if "{" in url:
            continue
        for verb in [method] if method != "get" else (["put", "patch", "delete"] if kind else []):
            response = send(f"{verb.upper()} {url}", verb, url, data=body, content_type="application/json")
            if kind is not None and not visible(actor, kind):
                tally.check(refused(response), f"{actor} {verb.upper()} {url}: {response.status_code}")
            else:  # a list's create, or theirs to read (finance and payments): a write still changes nothing here
                tally.check(response.status_code >= 400, f"{actor} {verb.upper()} {url}: {response.status_code}")
    after = snapshot()  # and once more, whole, whatever the statements looked like
    exports = ExportJob.objects.exclude(pk__in=[county.a.export.pk, county.b.export.pk])
    tally.check(all(j.requested_by_id == user.pk for j in exports), "an export was made for someone else")
    for table in EXPORT_TABLES:  # the actor's own exports, checked above
        start.pop(table, None), after.pop(table, None)
    tally.check(after == start, f"{actor}: the database changed: {changed_tables(start, after)}")
    tally.done()


ENDED = [w.ENDED_PROVIDER, w.ENDED_CAREGIVER]
# Pages whose POST starts an export of the actor's own data (checked to be theirs, then let through).
OWN_EXPORTS = {"services:compliance_export", "billing:settlement_download", "billing:settlement_download_sheet"}


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ENDED)
def test_access_ends_when_service_ends(county, client, actor):
    """Provider X (contract terminated) and caregiver Y (agreement ended) no longer list or open their former
    recipient, nor the assessment made after the end, and the caregiver cannot check in there."""
    tally, former = Tally(f"service ended: {actor}"), county.former[actor]
    person = former.recipient
    client.force_login(county.actors[actor])
    for url in (
        f"/api/v1/recipients/{person.pk}/",
        f"/api/v1/assessments/{former.later.pk}/",
        reverse("recipients:recipient_detail", args=[person.pk]),
        reverse("recipients:assessment_report", args=[person.pk]),
    ):
        response = tally.request(client, "get", url)
        tally.check(refused(response), f"{actor} opened {url}: {response.status_code}")
    lists = ["/api/v1/recipients/", "/api/v1/assessments/", "/api/v1/visits/today/"]
    lists += [reverse("recipients:recipient_list"), reverse("services:caregiver_day"), reverse("portal:home")]
    for url in lists:
        response = tally.request(client, "get", url, follow=True)
        tally.check(not leaks(response, person.sentinels), f"{url} lists {leaks(response, person.sentinels)}")
    private = [person.id_number, person.address, person.phone]
    for url in (
        "/api/v1/agreements/",
        f"/api/v1/agreements/{former.agreement.pk}/",
        reverse("contracts:agreement_detail", args=[former.agreement.pk]),
        reverse("contracts:agreement_print", args=[former.agreement.pk]),
    ):  # their own former agreement, if they may still read it, no longer gives the address or phone
        response = tally.request(client, "get", url)
        tally.check(not leaks(response, private), f"{url} shows {leaks(response, private)} to {actor}")
    before = snapshot()
    now = timezone.now()
    body = {
        "client_id": str(uuid.uuid4()), "recipient_id": person.pk, "started_at": now.isoformat(),
        "latitude": float(person.home_latitude), "longitude": float(person.home_longitude),
    }  # fmt: skip
    for url, kwargs in (
        ("/api/v1/visits/check-in/", {"data": body, "content_type": "application/json"}),
        ("/api/v1/visits/emergency/", {"data": body, "content_type": "application/json"}),
        (reverse("services:caregiver_check_in", args=[person.pk]), {"data": body}),
    ):
        response = tally.request(client, "post", url, **kwargs)
        tally.check(response.status_code in (400, 403, 404), f"{actor} checked in via {url}: {response.status_code}")
    tally.check(snapshot() == before, f"{actor}'s check-in changed {changed_tables(before, snapshot())}")
    tally.done()


@pytest.mark.django_db
def test_the_world_has_something_to_leak(county, client):
    """Bureau staff do see side b's sentinels (so their absence elsewhere means something): the person in the
    recipient list and API, with the masked ID number, the full address and phone on the record; and side b has
    visits, settlement lines, evaluations and problems."""
    b = county.b
    client.force_login(county.bureau)
    page = client.get(reverse("recipients:recipient_list")).content.decode()
    assert b.recipient.name in page and mask_id_number(b.recipient.id_number) in page
    record = client.get(reverse("recipients:recipient_detail", args=[b.recipient.pk])).content.decode()
    assert "泄露巷99号" in record
    assert b.recipient.name in client.get("/api/v1/visits/").content.decode()
    assert b.recipient.name in client.get("/api/v1/settlements/lines/").content.decode()
    assert b.provider.name in client.get("/api/v1/supervision/evaluations/").content.decode()
    assert b.provider.name in client.get("/api/v1/supervision/serious-problems/").content.decode()
    former = county.former[w.ENDED_PROVIDER].recipient
    assert former.name in client.get("/api/v1/recipients/").content.decode()
