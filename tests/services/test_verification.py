"""Each verification rule, passing and failing, through the check-in and check-out actions."""

import datetime
import math
import uuid

import pytest
import time_machine
from django.utils import timezone

from contracts.models import AgreementStatus
from services import actions
from services.models import GpsRuleStatus, RecipientGpsRule, ServiceStandard, Visit, VisitStatus
from services.verification import haversine_m
from tests.factories import AgreementFactory, CaregiverFactory, RecipientFactory
from tests.services.factories import VisitFactory, local

pytestmark = pytest.mark.django_db

# ~0.0009° of latitude ≈ 100 m; 0.01° ≈ 1.1 km
NEAR, FAR = 0.0009, 0.01


def law_of_cosines_m(lat1, lng1, lat2, lng2):
    """The same great-circle distance by another formula (spherical law of cosines), to check against."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    return 6_371_000 * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl))


def test_haversine_matches_known_distances_north_south_east_west_and_across():
    # one degree along a meridian, and along the equator, is 111.195 km on a 6371 km sphere
    assert haversine_m(36, 115, 37, 115) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(0, 115, 0, 116) == pytest.approx(111_195, rel=1e-4)
    # at 60° north a degree of longitude is about half as long (a little less along the great circle)
    assert haversine_m(60, 115, 60, 116) == pytest.approx(55_596, rel=1e-3)
    # east-west in Shen County (36.234° N): 0.004° of longitude is about 359 m
    assert haversine_m(36.234, 115.671, 36.234, 115.675) == pytest.approx(358.8, abs=1)
    # Beijing (Tiananmen) to Shanghai (People's Square), checked by another formula: about 1067 km
    beijing, shanghai = (39.9087, 116.3975), (31.2304, 121.4737)
    assert haversine_m(*beijing, *shanghai) == pytest.approx(law_of_cosines_m(*beijing, *shanghai), rel=1e-6)
    assert haversine_m(*beijing, *shanghai) == pytest.approx(1_067_000, rel=1e-2)
    # symmetric, and zero at the same point
    assert haversine_m(*shanghai, *beijing) == pytest.approx(haversine_m(*beijing, *shanghai))
    assert haversine_m(*beijing, *beijing) == 0


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
    # sent from an offline phone's queue (a check-in made now is refused: test_visits_after_service_ends.py)
    visit = check_in(caregiver_user, ended.recipient, offline=True)
    assert visit.status == VisitStatus.EXCEPTION
    assert visit.exception_reasons == ["no_agreement"]
    assert visit.agreement is None


def test_an_agreement_whose_provider_has_no_contract_for_the_town_covers_no_visit(caregiver, caregiver_user, check_in):
    from tests.factories import ContractFactory, town

    # the provider's only contract is for 朝城镇; the agreement (signed all the same) is for someone of 燕塔街道
    ContractFactory(provider=caregiver.provider, towns=[town("朝城镇")])
    agreement = AgreementFactory(provider=caregiver.provider, caregiver=caregiver, recipient=RecipientFactory())
    assert agreement.recipient.town.name == "燕塔街道"
    # sent from an offline phone's queue: recorded, and not counted under that agreement
    visit = check_in(caregiver_user, agreement.recipient, offline=True)
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
    assert check_in(caregiver_user, recipient, offline=True).exception_reasons == ["not_assigned"]


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
    visit = check_out(
        caregiver_user, check_in(caregiver_user, ended.recipient, lat_offset=FAR, offline=True), minutes=10
    )
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


@pytest.mark.parametrize(("lng_offset", "reasons"), [(0.004, ["too_far"]), (0.003, []), (-0.004, ["too_far"])])
def test_the_radius_applies_east_and_west_of_home(agreement, caregiver_user, lng_offset, reasons):
    """300 m from home: 0.004° of longitude at Shen County's latitude is about 359 m (too far), 0.003° about 269 m."""
    recipient = agreement.recipient
    visit = actions.visit_check_in(
        actor=caregiver_user,
        client_id=uuid.uuid4(),
        recipient_id=recipient.pk,
        started_at=timezone.now() - datetime.timedelta(minutes=5),
        latitude=float(recipient.home_latitude),
        longitude=float(recipient.home_longitude) + lng_offset,
    )[0]
    assert visit.exception_reasons == reasons
    assert visit.checkin_distance_m == pytest.approx(abs(lng_offset) * 89_690, abs=2)


def test_a_zero_minute_visit_is_too_short(agreement, caregiver_user, check_in, check_out):
    visit = check_out(caregiver_user, check_in(caregiver_user, agreement.recipient), minutes=0)
    assert visit.exception_reasons == ["too_short"]


def test_a_check_out_sent_days_late_is_logged_late(agreement, caregiver_user, check_in, check_out):
    """Checked in on time three days ago, checked out after 45 minutes, but the check-out reached the server only
    now (the phone was offline): the check-out was logged 72 hours late, past the 72-hour default… and 80 hours is."""
    visit = check_in(caregiver_user, agreement.recipient, ago_minutes=80 * 60)
    Visit.objects.filter(pk=visit.pk).update(received_at=visit.started_at)  # the check-in itself arrived on time
    visit.refresh_from_db()
    visit = check_out(caregiver_user, visit, minutes=45, offline=True)
    assert visit.exception_reasons == ["logged_late"]


def sync(user, items, received_at):
    return actions.visit_sync(actor=user, items=items, received_at=received_at)


def item(recipient, start, minutes=45, **more):
    return {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient.pk,
        "started_at": start,
        "ended_at": start + datetime.timedelta(minutes=minutes),
        "latitude": float(recipient.home_latitude),
        "longitude": float(recipient.home_longitude),
        "service_items": ["daily_cleaning"],
        "offline": True,
        **more,
    }


def test_a_multi_day_offline_batch_finds_each_days_agreement(caregiver, caregiver_user):
    """An offline phone sends three days at once (within the 72 hours allowed). The recipient's agreement with
    another caregiver ended on 3 March and the one naming this caregiver began on 4 March: the 3 March visit is
    'not assigned' under the old agreement, the 4 and 5 March ones are verified under the new one."""
    recipient = RecipientFactory()
    old = AgreementFactory(
        provider=caregiver.provider,
        caregiver=CaregiverFactory(provider=caregiver.provider),
        recipient=recipient,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 3, 3),
    )
    new = AgreementFactory(
        provider=caregiver.provider, caregiver=caregiver, recipient=recipient, start_date=datetime.date(2026, 3, 4)
    )
    starts = [local(2026, 3, 3), local(2026, 3, 4), local(2026, 3, 5)]
    results = sync(caregiver_user, [item(recipient, s) for s in starts], received_at=local(2026, 3, 5, 18))
    visits = [r[0] for r in results]
    assert [v.agreement_id for v in visits] == [old.pk, new.pk, new.pk]
    assert [v.exception_reasons for v in visits] == [["not_assigned"], [], []]


def test_a_batch_before_the_agreement_starts_or_after_it_ended_has_none(caregiver, caregiver_user):
    recipient = RecipientFactory()
    AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=recipient,
        start_date=datetime.date(2026, 3, 6),
        end_date=datetime.date(2026, 3, 7),
    )
    starts = [local(2026, 3, 5, 10), local(2026, 3, 6, 10), local(2026, 3, 7, 10), local(2026, 3, 8, 6)]
    # the phone's queue arrives on 8 March (the caregiver may send for people served in the last 31 days)
    with time_machine.travel(local(2026, 3, 8, 8), tick=False):
        results = sync(caregiver_user, [item(recipient, s) for s in starts], received_at=local(2026, 3, 8, 8))
    assert [r[0].exception_reasons for r in results] == [["no_agreement"], [], [], ["no_agreement"]]


@pytest.mark.parametrize(
    ("contract_change", "expected"),
    [
        ({"end_date": datetime.date(2026, 3, 6)}, [[], [], ["no_agreement"]]),
        ({"terminated_on": datetime.date(2026, 3, 6)}, [[], [], ["no_agreement"]]),
        ({"start_date": datetime.date(2026, 3, 6), "signed_on": datetime.date(2026, 3, 1)}, [["no_agreement"], [], []]),
    ],
)
def test_a_batch_across_the_day_the_providers_contract_ends_or_begins_counts_only_its_days(
    caregiver, caregiver_user, contract_change, expected
):
    """An offline queue of 5, 6 and 7 March arrives at once; the provider's contract for the town ends (or is
    terminated) on 6 March, or begins then: only the days the contract is in force are served under the
    agreement, though the batch is read as one (services.verification.Loader reads the contract once for all
    three days and keeps its window)."""
    recipient = RecipientFactory(entry_date=datetime.date(2026, 1, 1))
    agreement = AgreementFactory(provider=caregiver.provider, caregiver=caregiver, recipient=recipient)
    type(agreement.contract).objects.filter(pk=agreement.contract_id).update(**contract_change)
    starts = [local(2026, 3, 5, 10), local(2026, 3, 6, 10), local(2026, 3, 7, 10)]
    with time_machine.travel(local(2026, 3, 7, 18), tick=False):
        results = sync(caregiver_user, [item(recipient, s) for s in starts], received_at=local(2026, 3, 7, 18))
    assert [r[0].exception_reasons for r in results] == expected
    assert [r[0].agreement_id for r in results] == [agreement.pk if not e else None for e in expected]


def test_back_to_back_visits_sent_in_reverse_order_do_not_overlap(agreement, caregiver, caregiver_user):
    """09:00–09:45 at one home and 09:45–10:30 at another, the later one sent first: neither overlaps."""
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    received = local(2026, 3, 2, 18)
    later = sync(caregiver_user, [item(other.recipient, local(2026, 3, 2, 9, 45))], received)[0][0]
    earlier = sync(caregiver_user, [item(agreement.recipient, local(2026, 3, 2, 9, 0))], received)[0][0]
    assert (later.exception_reasons, earlier.exception_reasons) == ([], [])
    # one minute more, and the earlier one overlaps the later
    overlapping = sync(caregiver_user, [item(agreement.recipient, local(2026, 3, 2, 9, 1))], received)[0][0]
    assert overlapping.exception_reasons == ["overlap"]


def test_a_visit_finished_in_a_later_request_does_not_overlap_itself(agreement, caregiver_user, check_in):
    """Re-verification at check-out: the visit's own check-in is among the caregiver's visits of the day."""
    visit = check_in(caregiver_user, agreement.recipient, ago_minutes=60)
    results = sync(
        caregiver_user,
        [{"client_id": str(visit.client_id), "ended_at": visit.started_at + datetime.timedelta(minutes=45),
          "service_items": ["daily_cleaning"]}],
        received_at=timezone.now(),
    )  # fmt: skip
    assert results[0][1] == "finished"
    assert results[0][0].exception_reasons == []


def test_in_the_future_is_judged_at_receipt_not_when_verified_again(agreement, caregiver_user, check_in):
    """A check-in received at 09:00 claiming to start at 10:00 was in the future when it arrived; verifying it again
    the next day (a correction, a re-run) still says so. One claiming 09:04 was within the 5-minute tolerance."""
    from services.verification import verify_visit

    received = local(2026, 3, 2, 9, 0)
    ahead = VisitFactory(agreement=agreement, started_at=local(2026, 3, 2, 10), ended_at=None, received_at=received)
    within = VisitFactory(
        agreement=agreement, started_at=local(2026, 3, 3, 9, 4), ended_at=None, received_at=local(2026, 3, 3, 9)
    )
    next_day = local(2026, 3, 3, 12)
    assert "in_future" in verify_visit(ahead, now=next_day)
    assert "in_future" not in verify_visit(within, now=next_day)
    # the check-out likewise, against when the check-out arrived
    late_out = VisitFactory(
        agreement=agreement,
        started_at=local(2026, 3, 4, 9),
        ended_at=local(2026, 3, 4, 11),
        received_at=local(2026, 3, 4, 9),
        checkout_received_at=local(2026, 3, 4, 10),
    )
    assert "in_future" in verify_visit(late_out, now=local(2026, 3, 5, 12))


def test_the_clock_tolerance_and_the_late_limit_are_inclusive(agreement):
    """Exactly 5 minutes ahead of the server is not "in the future"; exactly 72 hours late is not "logged late"."""
    from services.verification import verify_visit

    received = local(2026, 3, 2, 9, 0)
    on_the_edge = VisitFactory(
        agreement=agreement,
        started_at=received + datetime.timedelta(minutes=5),
        ended_at=received + datetime.timedelta(minutes=50),
        received_at=received,
        checkout_received_at=received + datetime.timedelta(minutes=45),
    )
    assert verify_visit(on_the_edge, now=received) == []
    # a check-out two minutes ahead of its own receipt is within the tolerance too
    on_the_edge.ended_at = received + datetime.timedelta(minutes=47)
    assert verify_visit(on_the_edge, now=received) == []
    start = local(2026, 3, 5, 9, 0)
    exactly_72 = VisitFactory(
        agreement=agreement,
        started_at=start,
        ended_at=start + datetime.timedelta(minutes=45),
        received_at=start + datetime.timedelta(hours=72),
        checkout_received_at=start + datetime.timedelta(minutes=45, hours=72),
    )
    assert verify_visit(exactly_72, now=start + datetime.timedelta(hours=73)) == []


def test_a_position_with_one_coordinate_missing_is_no_position(agreement):
    from services.verification import verify_visit

    visit = VisitFactory(agreement=agreement, started_at=local(2026, 3, 2, 9), checkin_longitude=None)
    assert verify_visit(visit, now=local(2026, 3, 2, 12)) == ["no_position"]
    visit = VisitFactory(agreement=agreement, started_at=local(2026, 3, 3, 9), checkin_latitude=None)
    assert verify_visit(visit, now=local(2026, 3, 3, 12)) == ["no_position"]
    # and a home with only one coordinate is unlocated
    type(agreement.recipient).objects.filter(pk=agreement.recipient_id).update(home_longitude=None)
    visit = VisitFactory(agreement=agreement, started_at=local(2026, 3, 4, 9))
    visit.recipient.refresh_from_db()
    assert verify_visit(visit, now=local(2026, 3, 4, 12)) == ["home_unlocated"]


def test_a_visit_checked_out_into_another_visit_overlaps_it(agreement, caregiver, caregiver_user):
    """Checked in at 08:00 (open), then a 09:00–10:00 visit elsewhere, then the first checked out at 09:30: verified
    again at check-out, the first visit now overlaps the second."""
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    received = local(2026, 3, 2, 12)
    first = item(agreement.recipient, local(2026, 3, 2, 8), minutes=90)
    ended_at = first.pop("ended_at")
    opened = sync(caregiver_user, [first], received)[0][0]
    assert opened.exception_reasons == []
    sync(caregiver_user, [item(other.recipient, local(2026, 3, 2, 9), minutes=60)], received)
    results = sync(caregiver_user, [{"client_id": first["client_id"], "ended_at": ended_at,
                                     "service_items": ["daily_cleaning"]}], received)  # fmt: skip
    assert results[0][1] == "finished"
    assert results[0][0].exception_reasons == ["overlap"]


def test_a_visit_overlaps_by_its_whole_length_and_a_zero_minute_visit_inside_another_overlaps(
    agreement, caregiver, caregiver_user
):
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    received = local(2026, 3, 2, 12)
    sync(caregiver_user, [item(other.recipient, local(2026, 3, 2, 9), minutes=45)], received)
    # 08:30–09:10 reaches into 09:00–09:45 by its end
    assert sync(caregiver_user, [item(agreement.recipient, local(2026, 3, 2, 8, 30), minutes=40)], received)[0][
        0
    ].exception_reasons == ["overlap"]
    # 0 minutes at 09:10, inside 09:00–09:45
    zero = sync(caregiver_user, [item(agreement.recipient, local(2026, 3, 2, 9, 10), minutes=0)], received)[0][0]
    assert zero.exception_reasons == ["too_short", "overlap"]


def test_visits_of_one_batch_are_checked_against_each_other_but_emergencies_are_not(
    agreement, caregiver, caregiver_user
):
    """One offline batch: an emergency 07:00–08:00, a visit 07:30–08:15 (an emergency may interrupt anything),
    a visit 09:00–10:00 and one 09:30–10:15 that overlaps it."""
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    emergency = item(agreement.recipient, local(2026, 3, 2, 7), minutes=60, kind="emergency", what="摔倒", called="120")
    results = sync(
        caregiver_user,
        [
            emergency,
            item(other.recipient, local(2026, 3, 2, 7, 30), minutes=45),
            item(agreement.recipient, local(2026, 3, 2, 9), minutes=60),
            item(other.recipient, local(2026, 3, 2, 9, 30), minutes=45),
        ],
        local(2026, 3, 2, 12),
    )
    assert [r[0].exception_reasons for r in results[1:]] == [[], [], ["overlap"]]


def test_the_latest_decided_gps_rule_applies(agreement, caregiver_user, bureau_user, check_in):
    """Two approved rules for one home: the one decided last applies, whatever order they were requested in."""
    wide = RecipientGpsRule.objects.create(
        recipient=agreement.recipient, radius_m=2000, reason="山区", requested_by=bureau_user,
        status=GpsRuleStatus.APPROVED, decided_by=bureau_user, decided_at=timezone.now(),
    )  # fmt: skip
    RecipientGpsRule.objects.create(
        recipient=agreement.recipient, radius_m=50, reason="旧规则", requested_by=bureau_user,
        status=GpsRuleStatus.APPROVED, decided_by=bureau_user, decided_at=timezone.now() - datetime.timedelta(days=30),
    )  # fmt: skip
    assert wide.pk < RecipientGpsRule.objects.latest("pk").pk
    assert check_in(caregiver_user, agreement.recipient, lat_offset=FAR).exception_reasons == []


def test_verifying_again_clears_an_earlier_review(agreement, bureau_user):
    from services.verification import apply_verification

    visit = VisitFactory(agreement=agreement, started_at=local(2026, 3, 2, 9), minutes=10, status="exception")
    visit.reviewed_by, visit.reviewed_at, visit.review_reason = bureau_user, timezone.now(), "已电话核实"
    apply_verification(visit, now=local(2026, 3, 2, 12))
    assert (visit.status, visit.exception_reasons) == (VisitStatus.EXCEPTION, ["too_short"])
    assert (visit.reviewed_by, visit.reviewed_at, visit.review_reason) == (None, None, "")


def test_without_a_receipt_time_the_callers_clock_judges_the_future(agreement):
    from services.verification import verify_visit

    visit = VisitFactory.build(agreement=agreement, started_at=local(2026, 3, 2, 9), received_at=None)
    assert "in_future" in verify_visit(visit, now=local(2026, 3, 2, 8))
    assert "in_future" not in verify_visit(visit, now=local(2026, 3, 2, 10, 30))


def test_rejected_visits_and_emergencies_already_recorded_do_not_make_an_overlap(agreement, caregiver, caregiver_user):
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver)
    received = local(2026, 3, 2, 12)
    rejected = sync(caregiver_user, [item(other.recipient, local(2026, 3, 2, 9), minutes=60)], received)[0][0]
    Visit.objects.filter(pk=rejected.pk).update(status=VisitStatus.REJECTED)
    sync(
        caregiver_user,
        [item(other.recipient, local(2026, 3, 2, 11), minutes=30, kind="emergency", what="摔倒", called="120")],
        received,
    )
    results = sync(
        caregiver_user,
        [item(agreement.recipient, local(2026, 3, 2, 9, 15), minutes=30), item(agreement.recipient,
         local(2026, 3, 2, 11, 5), minutes=30)],
        received,
    )  # fmt: skip
    assert [r[0].exception_reasons for r in results] == [[], []]


def test_sends_given_their_own_arrival_moments_in_one_batch_are_the_sends_one_by_one(agreement, caregiver_user):
    """The demo's history goes up in batches (seed_demo_visits): each send with the moment it would have arrived
    must give the very visit the same sends, one request each, give: the same times of receipt, the same
    late-sync marks and the same verdicts (here: on time; a check-in sent 40 minutes late; a check-out sent four
    days late; checked in 2 km away; too short; and one still under way)."""
    recipient = agreement.recipient
    day = [local(2026, 3, d, 9) for d in range(2, 8)]
    minutes = datetime.timedelta(minutes=1)
    whole = [
        item(recipient, day[0], offline=False),
        item(recipient, day[1], offline=False),
        item(recipient, day[2], offline=False),
        item(recipient, day[3], offline=False, latitude=float(recipient.home_latitude) + 0.018),
        item(recipient, day[4], minutes=20, offline=False),
    ]
    still_open = {k: v for k, v in item(recipient, day[5], offline=False).items() if k not in ("ended_at",)}
    check_in = ("client_id", "recipient", "started_at", "latitude", "longitude")
    sends = []
    for body, checked_in_after, checked_out_after in zip(
        whole, [1, 40, 1, 1, 1], [2, 2, 4 * 24 * 60, 2, 2], strict=True
    ):
        sends.append((body["started_at"] + checked_in_after * minutes, {k: body[k] for k in check_in}))
        sends.append((body["ended_at"] + checked_out_after * minutes, body))
    sends.append((day[5] + minutes, still_open))
    sends.sort(key=lambda send: send[0])

    def fields():
        rows = Visit.objects.order_by("started_at").values()
        return [{k: v for k, v in row.items() if k not in ("id", "updated_at")} for row in rows]

    with time_machine.travel(local(2026, 3, 7, 10), tick=False):
        for arrived, body in sends:
            sync(caregiver_user, [body], received_at=arrived)
        one_by_one = fields()
        Visit.objects.all().delete()
        results = sync(caregiver_user, [body for _, body in sends], received_at=[arrived for arrived, _ in sends])
    assert {outcome for _, outcome, _ in results} == {"created", "finished"}
    assert fields() == one_by_one
    assert [(v["synced_late"], v["exception_reasons"]) for v in one_by_one] == [
        (False, []),
        (True, []),
        (True, ["logged_late"]),
        (False, ["too_far"]),
        (False, ["too_short"]),
        (False, []),
    ]


@pytest.mark.parametrize(("failures", "reasons"), [(4, []), (5, ["confirmation_failed"]), (6, ["confirmation_failed"])])
def test_the_fifth_wrong_confirmation_code_sends_the_visit_to_review(failures, reasons):
    """Four wrong one-time codes typed for a visit still leave it to the rules; the fifth (and any after) sends it
    to a person: reason 服务对象确认码多次输错."""
    from types import SimpleNamespace

    from services.verification import _rule_confirmation

    assert [str(r) for r in _rule_confirmation(SimpleNamespace(confirmation_failures=failures), None)] == reasons


def test_the_loader_reads_a_batch_in_three_queries_whatever_its_size(caregiver, bureau_user, django_assert_num_queries):
    """Agreements with their contracts' windows, approved GPS rules, the caregiver's neighbouring visits: three reads
    for a whole batch, nothing read again per visit or per rule (only the columns the rules use are read, each of
    them: a column left out would be read again row by row)."""
    from services.standards import standard_on
    from services.verification import Loader, verify_visit

    agreements = [AgreementFactory(provider=caregiver.provider, caregiver=caregiver) for _ in range(3)]
    for agreement, (exempt, radius) in zip(agreements[:2], [(True, None), (False, 2000)], strict=True):
        RecipientGpsRule.objects.create(
            recipient=agreement.recipient,
            gps_exempt=exempt,
            radius_m=radius,
            reason="山区",
            requested_by=bureau_user,
            status=GpsRuleStatus.APPROVED,
            decided_by=bureau_user,
            decided_at=timezone.now(),
        )
    visits = [
        VisitFactory(agreement=a, started_at=local(2026, 3, 5, 8 + 2 * i), minutes=40) for i, a in enumerate(agreements)
    ]
    visits = list(
        Visit.objects.filter(pk__in=[v.pk for v in visits]).select_related("recipient", "caregiver").order_by("pk")
    )
    standard_on(datetime.date(2026, 3, 1))  # cached in a running process

    with django_assert_num_queries(3):
        loader = Loader(visits, local(2026, 3, 5, 18))
        reasons = [verify_visit(v, loader=loader) for v in visits]
        rules = [(r.recipient_id, r.gps_exempt, r.radius_m) for r in loader.gps_rules.values()]

    assert [v.agreement_id for v in visits] == [a.pk for a in agreements]
    assert reasons == [[], [], []]
    assert sorted(rules) == sorted(
        [(agreements[0].recipient_id, True, None), (agreements[1].recipient_id, False, 2000)]
    )
