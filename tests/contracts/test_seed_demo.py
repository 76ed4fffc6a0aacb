import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from contracts.models import Agreement, Caregiver, Provider
from recipients.models import LevelApproval, MonthlyRoster, Recipient
from recipients.selectors import levels_on
from shenxian_care.models import Role, User


def counts():
    return [m.objects.count() for m in (Recipient, LevelApproval, Agreement, Caregiver, Provider, User, MonthlyRoster)]


@pytest.mark.django_db
def test_demo_county_loads_once_and_a_second_run_adds_nothing(capsys):
    call_command("seed_demo", recipients=48)
    first = counts()
    output = capsys.readouterr().out
    assert "Shenxian-Demo-2026" in output and "bureau" in output
    call_command("seed_demo", recipients=48)
    assert counts() == first
    # one login per role, each able to sign in
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(r.value for r in Role)
    assert User.objects.get(username="caregiver").caregiver.provider == User.objects.get(username="provider").provider
    # all three levels, everyone covered by a signed agreement in last month
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    levels = set(levels_on(list(Recipient.objects.values_list("pk", flat=True)), last_month).values())
    assert levels == {"self_care", "partial", "full"}
    assert Agreement.objects.in_force_on(last_month).count() == 48
    assert MonthlyRoster.objects.filter(month=last_month, status="applied").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["seed_demo", "seed_demo_visits"])
def test_demo_commands_refuse_a_database_that_is_not_a_demo(settings, command):
    from django.core.management.base import CommandError

    settings.DEMO_DATA_ALLOWED = False
    before = counts()
    with pytest.raises(CommandError, match="不允许载入演示数据"):
        call_command(command)
    assert counts() == before
