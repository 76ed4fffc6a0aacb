"""Schemathesis against the OpenAPI schema: generated requests to every operation, as bureau staff (who may
reach everything) and as a town official; no response is a server error, and responses match the schema."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from shenxian_care.actions import api_token_issue
from shenxian_care.models import Role
from tests.factories import AgreementFactory, RecipientFactory, UserFactory, town

_raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(_raw)
schema.app = get_wsgi_application()


def not_a_server_error(ctx, response, case):
    assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}"


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django closes its database connection when a request finishes; the test client prevents that, and
    so must we, since schemathesis calls the WSGI app directly and the test's transaction is on it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def headers(db):
    # Something to find: a recipient with an agreement in the town official's town.
    AgreementFactory(recipient=RecipientFactory(name="接口测试"))
    bureau = UserFactory(username="st-bureau", role=Role.BUREAU, is_staff=True)
    official = UserFactory(username="st-town", role=Role.TOWN, town=town("燕塔街道"))
    return {
        "bureau": {"Authorization": f"Token {api_token_issue(user=bureau).key}"},
        "town": {"Authorization": f"Token {api_token_issue(user=official).key}"},
    }


@pytest.mark.django_db
@schema.exclude(path_regex=r"^/api/v1/auth/token/$").parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_answers_as_documented(case, headers):
    for who in ("bureau", "town"):
        case.call_and_validate(
            headers=headers[who], checks=[not_a_server_error, response_schema_conformance], excluded_checks=None
        )


def test_the_fuzzed_schema_carries_the_list_filters():
    """The fuzzing above only tries what the schema lists: every list's filters are in it (tests/api/test_filters.py
    checks each one's bad values directly)."""
    from tests.api.test_filters import LISTS

    for url, names in LISTS.items():
        listed = {p["name"] for p in _raw["paths"][url]["get"].get("parameters", []) if p["in"] == "query"}
        assert set(names) <= listed, (url, set(names) - listed)
