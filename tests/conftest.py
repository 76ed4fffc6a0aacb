"""Named role fixtures: each role, and for town and provider a second one who must not see the first's data."""

import pytest
from rest_framework.test import APIClient

from shenxian_care.models import Role

from .factories import CaregiverFactory, ProviderFactory, UserFactory, town

PASSWORD = "Shenxian-2026-pass"


@pytest.fixture(autouse=True)
def _standards_not_cached_across_tests():
    """The service standard is cached (services.standards); a test's rows are rolled back after it, the copy
    is not."""
    from django.core.cache import cache

    from services.standards import CACHE_KEY

    cache.delete(CACHE_KEY)


@pytest.fixture
def bureau_user(db):
    return UserFactory(username="bureau", role=Role.BUREAU, is_staff=True, is_superuser=False)


@pytest.fixture
def finance_user(db):
    return UserFactory(username="finance", role=Role.FINANCE)


@pytest.fixture
def town_user(db):
    return UserFactory(username="town-yanta", role=Role.TOWN, town=town("燕塔街道"))


@pytest.fixture
def other_town_user(db):
    return UserFactory(username="town-chaocheng", role=Role.TOWN, town=town("朝城镇"))


@pytest.fixture
def provider(db):
    return ProviderFactory(name="莘县康乐养老服务中心")


@pytest.fixture
def other_provider(db):
    return ProviderFactory(name="莘县颐和居家养老服务有限公司")


@pytest.fixture
def provider_user(provider):
    return UserFactory(username="provider-kangle", role=Role.PROVIDER, provider=provider)


@pytest.fixture
def other_provider_user(other_provider):
    return UserFactory(username="provider-yihe", role=Role.PROVIDER, provider=other_provider)


@pytest.fixture
def caregiver(provider):
    user = UserFactory(username="caregiver-li", role=Role.CAREGIVER)
    return CaregiverFactory(provider=provider, user=user, name="李秀英")


@pytest.fixture
def caregiver_user(caregiver):
    return caregiver.user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def exported(django_capture_on_commit_callbacks):
    """exported(client, url, data=None) → Download(response, content, job): start an export by POSTing to
    `url` (it must redirect to the job's result page), run it, then download the file from the result page."""
    from collections import namedtuple

    from django.urls import reverse

    from shenxian_care.models import ExportJob

    download_of = namedtuple("Download", "response content job")

    def run(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(url, data or {})
        assert started.status_code == 302, started.status_code
        result = client.get(started.url)
        assert result.status_code == 200
        job = ExportJob.objects.get(pk=result.context["job"].pk)
        assert job.status == "done", job.error
        assert reverse("portal:export_download", args=[job.pk]) in result.content.decode()
        response = client.get(reverse("portal:export_download", args=[job.pk]))
        assert response.status_code == 200
        return download_of(response, b"".join(response.streaming_content), job)

    return run


# --- No full ID number in any log line of the whole suite (安全审计 / PIPL) -----------------------------------
import logging  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

from shenxian_care.validators import id_check_char  # noqa: E402

SUITE_LOG = Path(__file__).resolve().parent.parent / "test-artifacts" / "suite.log"
_ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


def full_id_numbers_in(text):
    """Every valid 18-character ID number (check character and all) that appears in `text`."""
    return sorted({m for m in _ID_PATTERN.findall(text) if id_check_char(m[:17]) == m[17].upper()})


def _flush_may_truncate_frozen_months():
    """Transactional tests end with a flush (TRUNCATE of every table): a deliberate wipe of the whole test
    database, let through PostgreSQL's guard of confirmed months (billing/frozen.py)."""
    try:
        from django.db.backends.postgresql.operations import DatabaseOperations
    except ImportError:  # no PostgreSQL driver: the suite runs on SQLite, which has no TRUNCATE
        return
    from billing.frozen import ALLOW_TRUNCATE_SQL

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return flush(self, [ALLOW_TRUNCATE_SQL, *sql_list])

    DatabaseOperations.execute_sql_flush = execute_sql_flush


def pytest_configure(config):
    _flush_may_truncate_frozen_months()
    SUITE_LOG.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(SUITE_LOG, mode="w", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))


def pytest_sessionfinish(session, exitstatus):
    logging.shutdown()
    if not SUITE_LOG.exists():
        return
    leaked = full_id_numbers_in(SUITE_LOG.read_text(encoding="utf-8", errors="replace"))
    if leaked:
        masked = ", ".join(n[:4] + "*" * 10 + n[-4:] for n in leaked[:10])
        session.config.get_terminal_writer().line(
            f"FAILED: {len(leaked)} full ID number(s) appear in the suite's logs ({SUITE_LOG}): {masked}", red=True
        )
        session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    """Transactional tests flush the database afterwards, which would also remove the reference data the
    migrations load (the 24 towns, the 2023 rates, the scoring sheet). Give every one of them a serialized
    rollback, so each later test starts from the migrated database."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback"):
            continue
        item.add_marker(pytest.mark.django_db(**{**marker.kwargs, "serialized_rollback": True}), append=False)
