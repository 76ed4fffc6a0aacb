"""Chinese everywhere: a clerk whose browser asks for English still gets every page, form error and admin section
in Chinese (zh-hans only, no switching by Accept-Language)."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse
from lxml import html

from shenxian_care.models import Role
from tests.billing.conftest import billed, two_provider_month  # noqa: F401  (fixtures)
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
from tests.test_permission_matrix import PAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    """A login of every role in 燕塔街道 / provider A (and someone they serve, 本镇某人), and a provider B in 朝城镇."""
    mine, theirs = ProviderFactory(), ProviderFactory()
    ContractFactory(provider=mine, towns=[town("燕塔街道")])
    ContractFactory(provider=theirs, towns=[town("朝城镇")])
    own = RecipientFactory(village=VillageFactory(town=town("燕塔街道")), name="本镇某人")
    caregiver = CaregiverFactory(provider=mine, user=UserFactory(username="m-c", role=Role.CAREGIVER))
    AgreementFactory(recipient=own, provider=mine, caregiver=caregiver)
    return {
        "bureau": UserFactory(username="m-b", role=Role.BUREAU, is_staff=True),
        "finance": UserFactory(username="m-f", role=Role.FINANCE),
        "town": UserFactory(username="m-t", role=Role.TOWN, town=town("燕塔街道")),
        "provider": UserFactory(username="m-p", role=Role.PROVIDER, provider=mine),
        "caregiver": caregiver.user,
    }


# English a page would show from Django or a library when the language switched (labels, buttons, errors).
ENGLISH = [
    "This field is required",
    "Enter a valid",
    "Log out",
    "Log in",
    "Save",
    "Home",
    "Filter",
    "Search",
    "Add",
    "Change",
    "Delete",
    "View site",
    "Welcome",
    "Previous",
    "Next",
    "Show all",
    "Recent actions",
    "Select",
    "Authentication and Authorization",
    "Django administration",
    "Site administration",
    "Log entries",
    "Access attempts",
    "Access logs",
    "TOTP devices",
    "Static devices",
    "Go",
    "Clear",
    "Today",
    "Yes",
    "No",
    "Unknown",
    "Page",
    "Action",
]
_PATTERN = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![A-Za-z])")


def english_on(response):
    """English labels in what the page shows (its text and its buttons' and fields' words, not its scripts)."""
    page = html.fromstring(response.content.decode())
    for bad in page.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    shown = [page.text_content()]
    shown += page.xpath("//input[@type='submit' or @type='button']/@value | //@placeholder | //@title | //@aria-label")
    return sorted(set(_PATTERN.findall(" ".join(shown))))


@pytest.mark.parametrize("role", ["bureau", "finance", "town", "provider", "caregiver"])
def test_every_portal_page_is_chinese_to_an_english_browser(world, client, role):  # noqa: F811
    client.force_login(world[role])
    for name in sorted(PAGES):
        response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en", follow=True)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        assert english_on(response) == [], f"{role} on {name}"


@pytest.mark.parametrize("role", ["bureau", "town", "provider"])
def test_a_record_and_its_forms_are_chinese_to_an_english_browser(world, client, role):  # noqa: F811
    """Pages of one record (a person, an agreement, a reported change), with their forms."""
    import datetime

    from contracts.models import Agreement
    from recipients import actions
    from recipients.models import Assessment, Recipient

    own = Recipient.objects.get(name="本镇某人")
    answers = {field: True for field, _ in Assessment.INDICATORS}
    change = actions.assessment_create(
        actor=world["town"], recipient=own, assessed_on=datetime.date(2026, 11, 2), answers=answers
    )
    leaving = actions.exit_report(
        actor=world["town"], recipient=own, reason="death", occurred_on=datetime.date(2026, 11, 20)
    )
    agreement = Agreement.objects.get(recipient=own)
    urls = [
        reverse("recipients:recipient_detail", args=[own.pk]),
        reverse("contracts:agreement_detail", args=[agreement.pk]),
        reverse("contracts:agreement_print", args=[agreement.pk]),
    ]
    if role in ("bureau", "town"):
        urls += [
            reverse("recipients:assessment_report", args=[own.pk]),
            reverse("recipients:exit_report", args=[own.pk]),
        ]
    if role == "bureau":
        urls += [
            reverse("recipients:assessment_decide", args=[change.pk]),
            reverse("recipients:exit_decide", args=[leaving.pk]),
        ]
    client.force_login(world[role])
    for url in urls:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        assert english_on(response) == [], url


def test_every_admin_list_and_form_is_chinese_to_an_english_browser(world, client):  # noqa: F811
    client.force_login(world["bureau"])
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        urls.append(reverse("admin:app_list", args=[opts.app_label]))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[first.pk]))
    found = {}
    for url in sorted(set(urls)):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 403), url  # 403: an add page the admin does not offer
        if response.status_code == 200 and english_on(response):
            found[url] = english_on(response)
    assert found == {}


def test_form_errors_are_chinese_to_an_english_browser(world, client):  # noqa: F811
    client.force_login(world["town"])
    from recipients.models import Recipient

    own = Recipient.objects.get(name="本镇某人")
    response = client.post(
        reverse("recipients:exit_report", args=[own.pk]), {"occurred_on": "not a date"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "该字段是必填项" in page and "输入一个有效的日期" in page
    assert english_on(response) == []


def test_the_sign_in_page_is_chinese_to_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert english_on(response) == []
    assert 'lang="zh-Hans"' in response.content.decode()


def test_a_date_input_shows_its_value_in_iso():
    """An <input type="date"> takes only 2026-12-02: every date field renders its value so, whatever the locale."""
    import datetime

    from recipients.forms import AssessmentDecisionForm, ExitReportForm

    form = ExitReportForm(initial={"occurred_on": datetime.date(2026, 12, 2)})
    assert 'value="2026-12-02"' in str(form["occurred_on"])
    decision = AssessmentDecisionForm(initial={"effective_date": datetime.date(2026, 1, 5)})
    assert 'value="2026-01-05"' in str(decision["effective_date"])
    # what a clerk types with slashes is still read
    typed = ExitReportForm({"reason": "death", "occurred_on": "2026/12/02"})
    assert typed.is_valid() and typed.cleaned_data["occurred_on"] == datetime.date(2026, 12, 2)


def test_the_admin_sections_of_third_party_apps_have_chinese_names(client, bureau_user):
    client.force_login(bureau_user)
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name in (
        "审计日志",
        "审计记录",
        "登录防护",
        "登录尝试（锁定）",
        "登录日志",
        "双因素验证",
        "动态口令设备",
        "API 令牌",
    ):
        assert name in page, name
    for english in ("Auditlog", "Audit log", "Axes", "Otp", "TOTP devices", "Access logs", "Auth Token"):
        assert english not in page, english


def test_downloads_have_chinese_names_only(client, bureau_user):
    import datetime
    from types import SimpleNamespace
    from urllib.parse import unquote

    from billing import exports as billing_exports
    from services import exports as services_exports
    from services.reports import GROUPS

    month = datetime.date(2026, 11, 1)
    names = [services_exports.file_name(month, group) for group in GROUPS]
    names += [billing_exports.file_name(SimpleNamespace(month=month), sheet) for sheet in billing_exports.SHEET_TITLES]
    names.append(billing_exports.file_name(SimpleNamespace(month=month)))
    client.force_login(bureau_user)
    disposition = client.get(reverse("recipients:roster_template"))["Content-Disposition"]
    names.append(unquote(disposition.split("''", 1)[1]))
    for name in names:
        assert name.endswith(".xlsx")
        assert not re.search(r"[A-Za-z]", name.removesuffix(".xlsx")), name


def test_a_favicon_on_the_portal_and_the_admin(client, bureau_user):
    client.force_login(bureau_user)
    for url in (reverse("portal:home"), reverse("admin:index"), reverse("login")):
        assert 'rel="icon"' in client.get(url).content.decode(), url


@pytest.mark.parametrize("role", ["bureau", "finance", "town", "provider"])
def test_the_pages_of_visits_notices_problems_complaints_and_exports_are_chinese(world, client, role):  # noqa: F811
    """The pages of one record the walk above does not reach (they take an id): a visit, a rectification notice, a
    serious problem, a complaint, a town's evaluation, an export's result page, each as every role that may open
    it (the others get 403/404, not checked here)."""
    import datetime

    from contracts.models import Agreement
    from recipients.models import Recipient
    from services import exports as services_exports
    from shenxian_care.actions import export_request
    from supervision.actions import complaint_log, evaluation_start, rectification_issue, serious_problem_report
    from tests.factories import town
    from tests.services.factories import VisitFactory

    own = Recipient.objects.get(name="本镇某人")
    agreement = Agreement.objects.get(recipient=own)
    yanta, provider = town("燕塔街道"), agreement.provider
    today = datetime.date.today()
    visit = VisitFactory(
        agreement=agreement, status="exception", exception_reasons=["too_far"], checkin_distance_m=2001
    )
    notice = rectification_issue(
        actor=world["bureau"], provider=provider, town=yanta, problem="上门次数不足", deadline=today
    )
    problem = serious_problem_report(
        actor=world["town"], provider=provider, town=yanta, occurred_on=today, description="未按协议上门"
    )
    complaint = complaint_log(
        actor=world["bureau"], channel="family", town=yanta, content="上门时间太短", route_to="provider",
        provider=provider, recipient=own,
    )  # fmt: skip
    evaluation = evaluation_start(actor=world["town"], town=yanta, provider=provider, month=datetime.date(2026, 11, 1))
    job = export_request(
        actor=world[role],
        kind=services_exports.EXPORT_KIND,
        params=services_exports.export_params(month=datetime.date(2026, 11, 1), group="town", filters={}),
        file_name="达标月报.xlsx",
    )
    urls = [reverse("portal:export_detail", args=[job.pk])]
    if role in ("bureau", "town", "provider"):
        urls += [
            reverse("services:visit_detail", args=[visit.client_id]),
            reverse("supervision:rectification_detail", args=[notice.pk]),
            reverse("supervision:problem_detail", args=[problem.pk]),
            reverse("supervision:complaint_detail", args=[complaint.pk]),
            reverse("supervision:evaluation_detail", args=[evaluation.pk]),
        ]
    client.force_login(world[role])
    opened = 0
    for url in urls:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 403, 404), url
        if response.status_code == 200:
            opened += 1
            assert english_on(response) == [], url
    assert opened == len(urls) if role == "bureau" else opened >= 1  # the bureau opens every one


@pytest.mark.parametrize("role", ["bureau", "finance", "provider"])
def test_a_settlements_pages_are_chinese_to_an_english_browser(client, role, request, two_provider_month):  # noqa: F811
    settlement, _, _ = two_provider_month
    user = request.getfixturevalue(f"{role}_user")
    client.force_login(user)
    for name in ("settlement_detail", "settlement_lines", "settlement_payments", "settlement_proposals"):
        url = reverse(f"billing:{name}", args=[settlement.pk])
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        assert english_on(response) == [], url
