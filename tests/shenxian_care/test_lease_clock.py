"""A run's lease is judged by the database's clock, the one its heartbeat is written with: a web process whose
clock is hours off the worker's (another machine, or a test that moved its clock) still sees a beating run as
alive and a silent one as dead."""

import datetime

import pytest
import time_machine
from django.db import connection

from shenxian_care.models import JobProgress
from shenxian_care.progress import _HEARTBEAT_SQL, job_key, run_alive, run_died
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="heartbeats are PostgreSQL's (in-process elsewhere)"
    ),
]


@pytest.mark.parametrize("hours", [-10, 10])
def test_a_beating_run_is_alive_whatever_this_process_clock_says(settings, hours):
    settings.JOB_LEASE_SECONDS = 45
    work = UserFactory()  # any saved object names a run
    with connection.cursor() as cursor:
        cursor.execute(_HEARTBEAT_SQL, [job_key(work)])  # beats now, by the database's clock

    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours), tick=False):
        assert run_alive(work) and not run_died(work)


def test_a_silent_run_is_dead_whatever_this_process_clock_says(settings):
    settings.JOB_LEASE_SECONDS = 45
    work = UserFactory()
    with connection.cursor() as cursor:
        cursor.execute(_HEARTBEAT_SQL, [job_key(work)])
        cursor.execute(
            f"UPDATE \"{JobProgress._meta.db_table}\" SET updated_at = now() - interval '1 minute' WHERE job = %s",  # noqa: S608  # nosec B608 - a model's table name
            [job_key(work)],
        )

    with time_machine.travel(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=10), tick=False):
        assert run_died(work) and not run_alive(work)
