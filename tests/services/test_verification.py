"""Each verification rule, passing and failing, through the check-in and check-out actions."""

import datetime

import pytest
from django.utils import timezone

from contracts.models import AgreementStatus
from services import actions
from services.models import GpsRuleStatus, RecipientGpsRule, ServiceStandard, VisitStatus
from services.verification import haversine_m
from tests.factories import AgreementFactory, CaregiverFactory, RecipientFactory

pytestmark = pytest.mark.django_db

# ~0.0009° of latitude ≈ 100 m; 0.01° ≈ 1.1 km
NEAR, FAR = 0.0009, 0.01


def test_haversine_matches_a_known_distance():
    # one degree of latitude is about 111.2 km
    assert haversine_m(36, 115, 37, 115) == pytest.approx(111_195, rel=1e-3)


def test_a_proper_visit_is_verified(agreement, caregiver_user, check_in, check_out):
    visit = check_out(caregiver_user, check_in(caregiver_user, agreement.recipient, lat_offset=NEAR), minutes=45)
    assert visit.status == VisitStatus.VERIFIED
    assert visit.exception_reasons == []
    assert visit.agreement == agreement
    assert 90 <= visit.checkin_distance_m <= 110
    assert visit.duration_minutes == 45


def test_no_signed_agreement_that_day(caregiver, caregiver_user, check_in):
    today = timezone.localdate()
    ended = AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        end_date=today - datetime.timedelta(days=3),
        status=AgreementStatus.TERMINATED,
    )
    visit = check_in(caregiver_user, ended.recipient)
    assert visit.status == VisitStatus.EXCEPTION
    assert visit.exception_reasons == ["no_agreement"]
    assert visit.agreement is None


def test_recipient_out_of_support_has_no_agreement(agreement, caregiver_user, check_in):
    recipient = agreement.recipient
    type(recipient).objects.filter(pk=recipient.pk).update(exit_date=timezone.localdate() - datetime.timedelta(days=1))
    recipient.refresh_from_db()
    assert check_in(caregiver_user, recipient).exception_reasons == ["no_agreement"]


def test_caregiver_not_of_the_agreements_provider(agreement, caregiver, caregiver_user, other_provider, check_in):
    # the caregiver moved to another provider but the agreement still names them
    type(caregiver).objects.filter(pk=caregiver.pk).update(provider=other_provider)
    caregiver_user.refresh_from_db()
    visit = check_in(caregiver_user, agreement.recipient)
    assert visit.exception_reasons == ["wrong_provider"]
    assert visit.provider == other_provider


def test_caregiver_not_the_assigned_one(caregiver, caregiver_user, check_in):
    recipient = RecipientFactory()
    AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=recipient,
        start_date=datetime.date(2024, 1, 1),
        end_date=timezone.localdate() - datetime.timedelta(days=5),
        status=AgreementStatus.TERMINATED,
    )
    AgreementFactory(
        provider=caregiver.provider,
        caregiver=CaregiverFactory(provider=caregiver.provider),
        recipient=recipient,
        start_date=timezone.localdate() - datetime.timedelta(days=4),
    )
    assert check_in(caregiver_user, recipient).exception_reasons == ["not_assigned"]


def test_check_in_beyond_the_radius(agreement, caregiver_user, check_in):
    visit = check_in(caregiver_user, agreement.recipient, lat_offset=FAR)
    assert visit.exception_reasons == ["too_far"]
    assert visit.checkin_distance_m > 1000


def test_the_bureau_radius_setting_applies(agreement, caregiver_user, check_in):
    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), radius_m=50)
    assert check_in(caregiver_user, agreement.recipient, lat_offset=NEAR).exception_reasons == ["too_far"]


def test_an_approved_wider_radius_for_the_recipient_overrides(agreement, caregiver_user, bureau_user, check_in):
    rule = RecipientGpsRule.objects.create(
        recipient=agreement.recipient, radius_m=2000, reason="山区，定位偏差大", requested_by=bureau_user
    )
    # pending: not yet in force
    assert check_in(caregiver_user, agreement.recipient, lat_offset=FAR).exception_reasons == ["too_far"]
    actions.gps_rule_decide(actor=bureau_user, rule=rule, approve=True, note="同意")
    assert check_in(caregiver_user, agreement.recipient, lat_offset=FAR, ago_minutes=10).exception_reasons == []


def test_gps_exempt_recipient_needs_no_position(agreement, caregiver_user, bureau_user, check_in):
    assert check_in(caregiver_user, agreement.recipient, position=False).exception_reasons == ["no_position"]
    RecipientGpsRule.objects.create(
        recipient=agreement.recipient,
        gps_exempt=True,
        reason="住处无信号",
        requested_by=bureau_user,
        status=GpsRuleStatus.APPROVED,
        decided_by=bureau_user,
        decided_at=timezone.now(),
    )
    assert check_in(caregiver_user, agreement.recipient, position=False, ago_minutes=10).exception_reasons == []


def test_home_without_coordinates(agreement, caregiver_user, check_in):
    recipient = agreement.recipient
    lat, lng = recipient.home_latitude, recipient.home_longitude
    type(recipient).objects.filter(pk=recipient.pk).update(home_latitude=None, home_longitude=None)
    visit = actions.visit_check_in(
        actor=caregiver_user,
        client_id="6b3f2c4e-0000-4000-8000-000000000001",
        recipient_id=recipient.pk,
        started_at=timezone.now(),
        latitude=lat,
        longitude=lng,
    )[0]
    assert visit.exception_reasons == ["home_unlocated"]


@pytest.mark.parametrize(("minutes", "reasons"), [(29, ["too_short"]), (30, [])])
def test_shorter_than_the_minimum(agreement, caregiver_user, check_in, check_out, minutes, reasons):
    visit = check_out(caregiver_user, check_in(caregiver_user, agreement.recipient), minutes=minutes)
    assert visit.exception_reasons == reasons


def test_overlapping_visits_of_the_same_caregiver(agreement, caregiver, caregiver_user, check_in, check_out):
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    first = check_out(caregiver_user, check_in(caregiver_user, agreement.recipient, ago_minutes=120), minutes=60)
    # starts 30 minutes into the first one
    second = check_in(caregiver_user, other.recipient, ago_minutes=90)
    assert second.exception_reasons == ["overlap"]
    # starts right when the first ended: fine
    third = check_in(caregiver_user, other.recipient, started_at=first.ended_at)
    assert third.exception_reasons == []


def test_an_open_visit_blocks_a_second_check_in(agreement, caregiver, caregiver_user, check_in):
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    check_in(caregiver_user, agreement.recipient, ago_minutes=10)
    assert check_in(caregiver_user, other.recipient, ago_minutes=10).exception_reasons == ["overlap"]


def test_end_before_start(agreement, caregiver_user, check_in, check_out):
    visit = check_in(caregiver_user, agreement.recipient)
    visit = check_out(caregiver_user, visit, ended_at=visit.started_at - datetime.timedelta(minutes=5))
    assert visit.exception_reasons == ["end_before_start"]


@pytest.mark.parametrize(("ahead", "reasons"), [(60, ["in_future"]), (2, [])])
def test_in_the_future(agreement, caregiver_user, check_in, ahead, reasons):
    assert check_in(caregiver_user, agreement.recipient, ago_minutes=-ahead).exception_reasons == reasons


def test_checkout_in_the_future(agreement, caregiver_user, check_in, check_out):
    visit = check_in(caregiver_user, agreement.recipient, ago_minutes=10)
    assert check_out(caregiver_user, visit, minutes=120).exception_reasons == ["in_future"]


@pytest.mark.parametrize(("hours_ago", "reasons"), [(80, ["logged_late"]), (60, [])])
def test_logged_long_after_the_fact(agreement, caregiver_user, check_in, hours_ago, reasons):
    visit = check_in(caregiver_user, agreement.recipient, ago_minutes=hours_ago * 60, offline=True)
    assert visit.exception_reasons == reasons
    assert visit.synced_late is True


def test_late_logging_limit_is_a_setting(agreement, caregiver_user, check_in):
    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), late_logging_hours=24)
    assert check_in(caregiver_user, agreement.recipient, ago_minutes=30 * 60).exception_reasons == ["logged_late"]


def test_a_visit_sent_minutes_later_is_marked_synced_late(agreement, caregiver_user, check_in):
    assert check_in(caregiver_user, agreement.recipient, ago_minutes=5).synced_late is False
    assert check_in(caregiver_user, agreement.recipient, ago_minutes=20 * 60).synced_late is True


def test_several_reasons_are_all_kept(caregiver, caregiver_user, check_in, check_out):
    ended = AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        end_date=timezone.localdate() - datetime.timedelta(days=3),
        status=AgreementStatus.TERMINATED,
    )
    visit = check_out(caregiver_user, check_in(caregiver_user, ended.recipient, lat_offset=FAR), minutes=10)
    assert visit.exception_reasons == ["no_agreement", "too_far", "too_short"]


def test_a_new_standard_takes_effect_at_once_though_the_standard_is_cached():
    from services.standards import standard_on

    day = datetime.date(2025, 3, 3)
    assert standard_on(day).radius_m == 300  # the defaults, now cached
    row = ServiceStandard.objects.create(effective_month=datetime.date(2025, 1, 1), radius_m=50)
    assert standard_on(day).radius_m == 50
    row.radius_m = 80
    row.save()
    assert standard_on(day).radius_m == 80
    assert standard_on(datetime.date(2024, 12, 31)).radius_m == 300
    row.delete()
    assert standard_on(day).radius_m == 300


def test_the_standard_is_read_from_the_table_when_the_cache_is_down(monkeypatch):
    from django.core.cache import cache

    from services.standards import standard_on

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), radius_m=70)
    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    assert standard_on(datetime.date(2025, 3, 3)).radius_m == 70
