"""The demo county's visits (`seed_demo_visits`): logged through the phones' own action, verified, repeatable."""

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count

from services.models import Visit, VisitFlag, VisitStatus
from shenxian_care.models import User

pytestmark = pytest.mark.django_db

# 08:20 on 18 November 2026 in Shen County: the first round of the day (08:00) is under way
NOW = datetime.datetime(2026, 11, 18, 0, 20, tzinfo=datetime.UTC)


@pytest.fixture
def seeded(capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", recipients=16)
        call_command("seed_demo_visits")
        yield capsys.readouterr().out


def test_demo_visits_fill_last_month_and_this_month_so_far_and_a_rerun_adds_nothing(seeded, client):
    assert "演示服务记录：新增" in seeded
    total = Visit.objects.count()
    by_month = dict(Visit.objects.values_list("visit_date__month").annotate(n=Count("id")))
    assert set(by_month) == {10, 11} and by_month[10] > by_month[11] > 0
    # verified through the real rules: the only exceptions are the ones the demo stages (2 km away, too short)
    reasons = {r for v in Visit.objects.filter(status=VisitStatus.EXCEPTION) for r in v.exception_reasons}
    assert reasons <= {"too_far", "too_short"}
    assert Visit.objects.filter(status=VisitStatus.VERIFIED).count() > 0.85 * total
    # the phones sent check-ins as they happened: only the days spent without signal came in late
    assert Visit.objects.filter(synced_late=True).count() < 0.2 * total
    assert Visit.objects.filter(visit_date__gt=NOW.date()).count() == 0
    in_progress = Visit.objects.filter(ended_at__isnull=True)
    assert in_progress.exists() and all(v.visit_date == NOW.date() for v in in_progress)

    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo_visits")
        assert Visit.objects.count() == total
        client.force_login(User.objects.get(username="bureau"))
        counts = client.get("/portal/services/dashboard.json").json()["counts"]
    assert counts["today"] > 0 and counts["in_progress"] == in_progress.count()
    # the daily check has run: the recipients the demo left unvisited for too long are on the dashboard
    assert VisitFlag.objects.filter(day=NOW.date()).exists()
