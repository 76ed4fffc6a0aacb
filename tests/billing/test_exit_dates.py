"""The exit date of an exit, as shared/domain.md "Billing rules" states it, worked through the town's report, the
bureau's approval and the settlement: for a death the exit date is the day after the death (the day of death is
paid); other exits are paid by day up to the exit (default) or, where the county sets
SUPPORT_EXIT_PAID_TO_MONTH_END, to the end of the month in which support ends."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from recipients.actions import exit_approve, exit_report
from recipients.models import ExitReason, SupportExit, support_exit_date

from .conftest import confirm_month, line_of

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("reason", "occurred_on", "month_end", "exit_date"),
    [
        (ExitReason.DEATH, D(2024, 2, 11), False, D(2024, 2, 12)),  # the day of death is in
        (ExitReason.DEATH, D(2024, 2, 29), False, D(2024, 3, 1)),  # leap day: February in full
        (ExitReason.DEATH, D(2024, 2, 11), True, D(2024, 2, 12)),  # a death is always by day
        (ExitReason.MOVED, D(2024, 3, 15), False, D(2024, 3, 15)),  # by day: 14 days of March
        (ExitReason.MOVED, D(2024, 3, 15), True, D(2024, 4, 1)),  # to the month's end: March in full
        (ExitReason.INCOME, D(2024, 3, 1), True, D(2024, 3, 1)),  # out from 1 March: February was the last
        (ExitReason.INSTITUTION, D(2024, 12, 31), True, D(2025, 1, 1)),  # over the year's end
    ],
)
def test_the_exit_date_follows_from_the_reason_and_the_county_setting(
    settings, reason, occurred_on, month_end, exit_date
):
    settings.SUPPORT_EXIT_PAID_TO_MONTH_END = month_end
    assert support_exit_date(reason, occurred_on) == exit_date


def test_a_death_reported_by_the_town_pays_the_day_of_death(settle, billed, town_user, bureau_user):
    """Self-care (189.00), died 11 February 2024: February pays 11 of 29 days, 189 × 11 / 29 = 71.689… → 71.69;
    March nothing."""
    recipient = billed(level="self_care")
    reported = exit_report(actor=town_user, recipient=recipient, reason="death", occurred_on=D(2024, 2, 11))
    exit_approve(actor=bureau_user, support_exit=reported)

    recipient.refresh_from_db()
    assert recipient.exit_date == D(2024, 2, 12)
    settlement = settle(2024, 2)
    february = line_of(settlement, recipient)
    assert (february.days, february.amount) == (11, Decimal("71.69"))
    confirm_month(actor=bureau_user, settlement=settlement)
    assert not settle(2024, 3).lines.filter(recipient=recipient).exists()


def test_a_move_is_paid_by_day_unless_the_county_pays_to_the_months_end(
    settle, billed, town_user, bureau_user, settings
):
    """Partial care (313.00), moved out of the county on 15 March 2024. By day: 14 of 31 days,
    313 × 14 / 31 = 141.354… → 141.35. To the month's end: March in full, 313.00, April nothing."""
    by_day, to_month_end = billed(level="partial"), billed(level="partial")
    exit_approve(
        actor=bureau_user,
        support_exit=exit_report(actor=town_user, recipient=by_day, reason="moved", occurred_on=D(2024, 3, 15)),
    )
    settings.SUPPORT_EXIT_PAID_TO_MONTH_END = True
    exit_approve(
        actor=bureau_user,
        support_exit=exit_report(actor=town_user, recipient=to_month_end, reason="moved", occurred_on=D(2024, 3, 15)),
    )

    march = settle(2024, 3)
    assert (line_of(march, by_day).days, line_of(march, by_day).amount) == (14, Decimal("141.35"))
    assert (line_of(march, to_month_end).days, line_of(march, to_month_end).amount) == (31, Decimal("313.00"))
    confirm_month(actor=bureau_user, settlement=march)
    assert not settle(2024, 4).lines.filter(recipient=to_month_end).exists()


def test_the_town_reports_the_date_of_death_on_its_page(client_as, town_user, billed):
    recipient = billed()
    page = client_as(town_user).get(reverse("recipients:exit_report", args=[recipient.pk])).content.decode()
    assert "死亡或退出日期" in page and "死亡当日仍计发" in page
    response = client_as(town_user).post(
        reverse("recipients:exit_report", args=[recipient.pk]), {"reason": "death", "occurred_on": "2024-02-11"}
    )
    assert response.status_code == 302
    reported = SupportExit.objects.get()
    assert (reported.occurred_on, reported.effective_date) == (D(2024, 2, 11), D(2024, 2, 12))


def test_an_unknown_reason_is_refused_and_nothing_is_reported(town_user, billed):
    from shenxian_care.exceptions import ApplicationError

    with pytest.raises(ApplicationError, match="请选择退出原因"):
        exit_report(actor=town_user, recipient=billed(), reason="moved_away", occurred_on=D(2024, 3, 1))
    assert not SupportExit.objects.exists()
