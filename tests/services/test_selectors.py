import datetime
from decimal import ROUND_HALF_UP, Decimal

from services.models import ServiceStandard, Visit, VisitStatus
from services.selectors import provider_visit_figures, required_from_days
from tests.factories import AgreementFactory, RecipientFactory

from .factories import VisitFactory, local


def test_required_from_days_full_month_is_the_standard_and_partial_rounds_half_up():
    assert required_from_days(8, 31, 31) == 8
    assert required_from_days(8, 15, 30) == 4
    assert required_from_days(4, 4, 31) == 1  # 0.516 → 1
    assert required_from_days(4, 3, 31) == 0  # 0.387 → 0
    assert required_from_days(16, 1, 30) == 1  # 0.5333 → 1
    assert required_from_days(4, 15, 30) == 2  # exactly 2
    assert required_from_days(1, 15, 30) == 1  # exactly half: up, not to even
    assert required_from_days(1, 14, 28) == 1  # half of February's 28 days
    assert required_from_days(3, 5, 30) == 1  # exactly half again: 0.5 → 1


def test_required_from_days_is_the_decimal_half_up_rounding_for_every_standard_and_month_length():
    # the whole-number formula must agree with standard × days ÷ days in the month, rounded half-up once, everywhere
    for days_in_month in (28, 29, 30, 31):
        for standard in range(0, 41):
            for days in range(0, days_in_month + 1):
                exact = Decimal(standard * days) / Decimal(days_in_month)
                expected = int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
                assert required_from_days(standard, days, days_in_month) == expected, (standard, days, days_in_month)


def test_provider_visit_figures_counts_visits_minutes_and_compliance(db, provider):
    # given two recipients of the provider for all of March 2025: 半失能 (8 a month) and 自理 (4 a month)
    partial = AgreementFactory(provider=provider, recipient=RecipientFactory(level="partial"))
    self_care = AgreementFactory(provider=provider, recipient=RecipientFactory(level="self_care"))
    # 10 visits to the 半失能 one (2 more than needed), 2 to the 自理 one, one of them rejected, one exception
    for day in range(1, 11):
        VisitFactory(agreement=partial, started_at=local(2025, 3, day), minutes=45)
    VisitFactory(agreement=self_care, started_at=local(2025, 3, 5), minutes=30)
    VisitFactory(
        agreement=self_care, started_at=local(2025, 3, 6), status=VisitStatus.EXCEPTION, exception_reasons=["too_far"]
    )
    VisitFactory(
        agreement=self_care, started_at=local(2025, 3, 7), status=VisitStatus.REJECTED, exception_reasons=["too_far"]
    )
    # an unfinished visit and another provider's visit never count
    VisitFactory(agreement=self_care, started_at=local(2025, 3, 8), ended_at=None, duration_minutes=None)
    VisitFactory(started_at=local(2025, 3, 8))

    # when
    figures = provider_visit_figures(provider=provider, start=datetime.date(2025, 3, 1), end=datetime.date(2025, 3, 31))

    # then: 12 counted visits; required 8 + 4; met = min(10, 8) + min(2, 4) = 10 → 10/12
    assert figures == {
        "visits": 12,
        "minutes": 10 * 45 + 30 + 60,
        "required_visits": 12,
        "compliance_rate": Decimal("0.8333"),
        "exception_rate": Decimal("0.1538"),  # 2 flagged of 13 finished
    }


def test_provider_visit_figures_prorates_and_follows_the_bureau_standard(db, provider):
    ServiceStandard.objects.create(effective_month=datetime.date(2025, 1, 1), visits_full=20)
    recipient = RecipientFactory(level="full", entry_date=datetime.date(2025, 4, 16))  # 15 of 30 April days
    agreement = AgreementFactory(provider=provider, recipient=recipient)
    VisitFactory(agreement=agreement, started_at=local(2025, 4, 20))

    figures = provider_visit_figures(provider=provider, start=datetime.date(2025, 4, 1), end=datetime.date(2025, 4, 30))

    assert figures["required_visits"] == 10
    assert figures["compliance_rate"] == Decimal("0.1000")
    assert figures["exception_rate"] == Decimal("0")


def test_provider_visit_figures_with_nothing_required_is_fully_compliant(db, provider):
    figures = provider_visit_figures(provider=provider, start=datetime.date(2025, 1, 1), end=datetime.date(2025, 6, 30))
    assert figures == {
        "visits": 0,
        "minutes": 0,
        "required_visits": 0,
        "compliance_rate": Decimal("1.0000"),
        "exception_rate": Decimal("0.0000"),
    }


def test_a_visit_is_named_by_its_beijing_time_also_when_read_back_from_the_database(db):
    # 23:30 on 1 November in Shen County is 15:30 UTC: the audit trail and admin show the county's clock
    started = datetime.datetime(2026, 11, 1, 15, 30, tzinfo=datetime.UTC)
    visit = VisitFactory(started_at=started)
    assert "2026-11-01 23:30" in str(Visit.objects.get(pk=visit.pk))
