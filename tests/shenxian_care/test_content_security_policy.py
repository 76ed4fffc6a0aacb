"""The Content-Security-Policy (settings CONTENT_SECURITY_POLICY, shenxian_care/content_security.py): every page
carries it, no template or page needs anything it refuses, and the third-party pages (API docs, DRF's browsable
API) get only what they need, on their own responses. The browser journeys fail on any violation in Chromium."""

import datetime
import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from billing.actions import settlement_compute
from tests.factories import AgreementFactory
from tests.test_permission_matrix import PAGES

ROLE_USERS = {
    "bureau": "bureau_user",
    "finance": "finance_user",
    "town": "town_user",
    "provider": "provider_user",
    "caregiver": "caregiver_user",
}
HEADER = "Content-Security-Policy"
REPORT_ONLY = "Content-Security-Policy-Report-Only"
STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

TEMPLATE_SYNTAX = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
TAG = re.compile(r"<([a-zA-Z][\w-]*)(\s[^>]*)?>", re.DOTALL)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
SRC = re.compile(r"\ssrc\s*=", re.IGNORECASE)
JSON_DATA = re.compile(r"""\stype\s*=\s*["']?application/json\b""", re.IGNORECASE)


def inline_code(html):
    """What the policy refuses to run or apply in a page or template: inline event handlers (on…=), <script>
    without src (json_script's type="application/json" data excepted), javascript: URLs, style attributes and
    <style> elements."""
    html = TEMPLATE_SYNTAX.sub(" ", html)  # a template tag inside an HTML tag may hold a ">"
    found = []
    for match in TAG.finditer(html):
        name, attributes = match.group(1).lower(), match.group(2) or ""
        if HANDLER.search(attributes):
            found.append(f"event handler: {match.group(0)[:120]}")
        if STYLE_ATTRIBUTE.search(attributes):
            found.append(f"style attribute: {match.group(0)[:120]}")
        if name == "script" and not SRC.search(attributes) and not JSON_DATA.search(attributes):
            found.append(f"inline script: {match.group(0)[:120]}")
        if name == "style":
            found.append(f"<style> element: {match.group(0)[:120]}")
    found += [f"javascript: URL: …{m.group(0)}…" for m in re.finditer(r".{0,40}javascript:", html, re.IGNORECASE)]
    return found


def policy(response, header=HEADER):
    value = response.headers.get(header)
    assert value, f"no {header} on {response.wsgi_request.path}"
    return {name: sources for name, *sources in (part.split() for part in value.split(";") if part.strip())}


def assert_scripts_only_from_the_portal(directives):
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert "script-src-elem" not in directives and "script-src-attr" not in directives


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_portal_page_carries_the_policy_and_needs_nothing_it_refuses(client, request, name):
    user = request.getfixturevalue(ROLE_USERS[sorted(PAGES[name])[0]])
    client.force_login(user)

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert policy(response) == STRICT
    assert_scripts_only_from_the_portal(policy(response))
    assert REPORT_ONLY not in response.headers
    if response["Content-Type"].startswith("text/html"):
        assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_pages_that_had_inline_handlers_and_the_error_pages_carry_it(client, bureau_user, caregiver_user):
    agreement = AgreementFactory()
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    anonymous = [client.get(reverse("login"))]
    client.force_login(bureau_user)
    pages = [
        client.get(reverse("contracts:agreement_print", args=[agreement.pk])),
        client.get(reverse("billing:settlement_detail", args=[settlement.pk])),
        client.get("/portal/no-such-page/"),
    ]
    client.force_login(caregiver_user)
    refused = client.get(reverse("services:dashboard"))

    assert [r.status_code for r in anonymous + pages] == [200, 200, 200, 404]
    assert refused.status_code in (403, 404)
    for response in [*anonymous, *pages, refused]:
        assert policy(response) == STRICT
        assert inline_code(response.content.decode()) == []
    assert "data-print" in pages[0].content.decode()


def test_no_template_has_inline_script_event_handlers_or_style():
    roots = [settings.BASE_DIR / "templates"]
    templates = [path for root in roots for path in root.rglob("*.html")]
    assert any(path.name == "base.html" for path in templates)

    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}: {finding}"
        for path in templates
        for finding in inline_code(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []


def test_the_checker_finds_what_the_policy_refuses():
    assert inline_code("""<button onclick="return confirm('x')">""")
    assert inline_code("""<body ONLOAD = "go()">""")
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<a href="javascript:void(0)">')
    assert inline_code('<p style="color:red">')
    assert inline_code("<style>p { color: red }</style>")
    assert inline_code("""<form class="{% if x > 1 %}a{% endif %}" onsubmit="go()">""")
    assert inline_code("""<script src="/static/portal/nav.js" defer></script>""") == []
    assert inline_code("""<script id="data" type="application/json">{"a": 1}</script>""") == []
    assert inline_code("""<button data-confirm="确定？" class="btn">确认</button>""") == []


@pytest.mark.django_db
def test_the_api_docs_get_only_what_they_need_on_their_own_pages(client, bureau_user):
    client.force_login(bureau_user)

    swagger = client.get(reverse("api-docs"))
    swagger_script = client.get(reverse("api-docs") + "?script=")
    redoc = client.get(reverse("api-redoc"))

    # Swagger UI runs under the portal's policy: its start-up script is a file (?script), its styles too
    assert swagger.status_code == 200 and policy(swagger) == STRICT
    assert inline_code(swagger.content.decode()) == []
    assert swagger_script.status_code == 200 and "SwaggerUIBundle" in swagger_script.content.decode()
    # ReDoc: inline styles (styled-components) and its blob: search worker, nothing for scripts or other hosts
    assert redoc.status_code == 200
    assert policy(redoc) == {**STRICT, "style-src": ["'self'", "'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}
    assert_scripts_only_from_the_portal(policy(redoc))
    body = redoc.content.decode()
    assert "fonts.googleapis.com" not in body and "<script src=" in body
    assert inline_code(body) == []


@pytest.mark.django_db
def test_only_the_browsable_api_pages_keep_inline_styles(client, bureau_user):
    client.force_login(bureau_user)

    browsable = client.get(reverse("recipient-list"), HTTP_ACCEPT="text/html")
    data = client.get(reverse("recipient-list"), HTTP_ACCEPT="application/json")
    admin = client.get(reverse("admin:index"))

    assert browsable.status_code == 200 and browsable["Content-Type"].startswith("text/html")
    assert policy(browsable) == {**STRICT, "style-src": ["'self'", "'unsafe-inline'"]}
    assert_scripts_only_from_the_portal(policy(browsable))
    assert data.status_code == 200 and policy(data) == STRICT
    assert admin.status_code == 200 and policy(admin) == STRICT


def _settings_in_a_fresh_process(**environment):
    """CONTENT_SECURITY_POLICY{,_REPORT_ONLY} as the settings read them from the environment, and whether the
    system checks pass with them (django-csp 4 fails them for any setting still named CSP_*)."""
    code = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        "call_command('check', fail_level='WARNING', verbosity=0)\n"
        "print(json.dumps([settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY]))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shenxian_care.settings.test", **environment}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_csp_report_only_sends_the_same_policy_without_enforcing_it():
    enforced, report_only = _settings_in_a_fresh_process(CSP_REPORT_ONLY="0")
    trial, trial_report_only = _settings_in_a_fresh_process(
        CSP_REPORT_ONLY="1", CSP_REPORT_URI="https://csp.example.org/report"
    )

    assert report_only is None and enforced["DIRECTIVES"]["script-src"] == ["'self'"]
    assert trial is None
    assert trial_report_only["DIRECTIVES"] == {
        **enforced["DIRECTIVES"],
        "report-uri": ["https://csp.example.org/report"],
    }


@pytest.mark.django_db
def test_in_report_only_mode_the_header_and_the_docs_relaxation_move_to_report_only(client, bureau_user, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    client.force_login(bureau_user)

    home = client.get(reverse("portal:home"))
    redoc = client.get(reverse("api-redoc"))

    assert HEADER not in home.headers and HEADER not in redoc.headers
    assert policy(home, REPORT_ONLY) == STRICT
    assert policy(redoc, REPORT_ONLY)["style-src"] == ["'self'", "'unsafe-inline'"]
