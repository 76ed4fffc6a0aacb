"""The demo county has something waiting on every desk after `make run` (seed_demo_desk), made once."""

import pytest
from django.core.management import call_command

from recipients.models import Assessment, SupportExit
from shenxian_care.desk import desk_items
from shenxian_care.models import User
from supervision.models import RectificationNotice

pytestmark = pytest.mark.django_db


def waiting(username):
    return {item.label: item.count for item in desk_items(actor=User.objects.get(username=username))}


def test_every_desk_has_something_waiting_and_a_second_run_adds_nothing(capsys, monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0:8080")  # make run HOST=0.0.0.0:8080
    call_command("seed_demo", recipients=48)  # two in 燕塔街道
    call_command("seed_demo_desk")
    output = capsys.readouterr().out
    assert "http://127.0.0.1:8080/" in output and "8000" not in output
    assert "工作台待办就绪" in output
    bureau = waiting("bureau")
    assert bureau["自理能力评估待审定"] == 1
    assert bureau["等级变更待审定"] == 1
    assert bureau["退出供养待审定"] == 1
    assert waiting("town")["被退回的报告（待修正重报）"] == 1
    assert waiting("provider")["待答复的整改通知"] == 1
    notice = RectificationNotice.objects.get()
    assert (notice.deadline - notice.issued_on).days == 2

    counts = (Assessment.objects.count(), SupportExit.objects.count(), RectificationNotice.objects.count())
    call_command("seed_demo_desk")
    assert (Assessment.objects.count(), SupportExit.objects.count(), RectificationNotice.objects.count()) == counts


def test_it_refuses_a_database_that_is_not_a_demo(settings):
    from django.core.management.base import CommandError

    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("seed_demo_desk")
