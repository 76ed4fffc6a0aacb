"""A list of a whole, large table is not counted row by row: the planner's estimate stands for COUNT(*)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shenxian_care import pagination
from tests.services.factories import VisitFactory, local

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's (pg_class)"),
]


@pytest.fixture
def visits(monkeypatch):
    made = [VisitFactory(started_at=local(2025, 3, 3 + i)) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE services_visit")  # what autovacuum keeps up to date
    monkeypatch.setattr(pagination, "ESTIMATE_FROM", 1)  # "large" from one row on
    return made


def counts_run(ctx):
    """The COUNTs of the visits table (not the page's photos, counted per visit)."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "services_visit"')
    ]


def test_the_bureaus_whole_list_is_counted_by_the_estimate(api_as, bureau_user, visits):
    api = api_as(bureau_user)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/api/v1/visits/")
    assert response.json()["count"] == 3
    assert len(response.json()["results"]) == 3
    assert counts_run(ctx) == []


def test_a_filtered_list_is_counted_exactly(api_as, bureau_user, visits):
    with CaptureQueriesContext(connection) as ctx:
        response = api_as(bureau_user).get("/api/v1/visits/?date=2025-03-04")
    assert response.json()["count"] == 1
    assert len(counts_run(ctx)) == 1


def test_the_admin_visit_list_is_counted_by_the_estimate(client_as, bureau_user, visits):
    client = client_as(bureau_user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/services/visit/")
    assert response.context["cl"].result_count == 3
    assert counts_run(ctx) == []


def test_a_small_whole_table_is_counted_exactly_in_the_same_one_query(api_as, bureau_user, visits, monkeypatch):
    monkeypatch.setattr(pagination, "ESTIMATE_FROM", 1000)
    VisitFactory(started_at=local(2025, 3, 9))  # not in the last ANALYZE: an exact count sees it
    with CaptureQueriesContext(connection) as ctx:
        response = api_as(bureau_user).get("/api/v1/visits/")
    assert response.json()["count"] == 4
    assert len(ctx.captured_queries) == 3  # the count, the page, the page's photos
