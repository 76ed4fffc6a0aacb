"""Scoping cannot leak: each rule of `shenxian_care/scoping.py` with a row on the other side that bureau staff do
see, so every "not visible" below could fail if the scope were wrong.

Two towns, two providers: 燕塔街道 is served by provider A (caregiver 甲), 朝城镇 by provider B (caregiver 乙).
Every kind of record the matrix's sentinel person never had (visits, settlements, evaluations, serious
problems) exists on B's side."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from billing.actions import settlement_compute
from billing.models import ProviderSettlement, Settlement
from contracts.models import Agreement, Caregiver
from recipients.models import Recipient
from services.models import Visit
from shenxian_care.models import Role, User
from shenxian_care.scoping import get_for_actor_or_404, owned_by, scope_key
from supervision import actions as supervision
from supervision.models import Evaluation, SeriousProblemReport, SpotCheck
from tests.factories import (
    AgreementFactory,
    CaregiverFactory,
    ContractFactory,
    ProviderFactory,
    RecipientFactory,
    UserFactory,
    VillageFactory,
    town,
)
from tests.services.factories import VisitFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sides(bureau_user):
    yanta, chaocheng = town("燕塔街道"), town("朝城镇")
    a, b = ProviderFactory(name="甲机构"), ProviderFactory(name="乙机构")
    ContractFactory(provider=a, towns=[yanta])
    ContractFactory(provider=b, towns=[chaocheng])
    side = {}
    for key, provider, place in (("a", a, yanta), ("b", b, chaocheng)):
        user = UserFactory(username=f"caregiver-{key}", role=Role.CAREGIVER)
        caregiver = CaregiverFactory(provider=provider, user=user)
        recipient = RecipientFactory(village=VillageFactory(town=place, name=f"{place.name}村"))
        agreement = AgreementFactory(
            recipient=recipient, provider=provider, caregiver=caregiver, start_date=datetime.date(2024, 1, 1)
        )
        visit = VisitFactory(agreement=agreement, started_at=local(2026, 3, 3))
        town_user = UserFactory(username=f"town-{key}", role=Role.TOWN, town=place)
        evaluation = supervision.evaluation_start(
            actor=town_user, town=place, provider=provider, month=datetime.date(2026, 3, 1)
        )
        problem = supervision.serious_problem_report(
            actor=town_user,
            provider=provider,
            occurred_on=datetime.date(2026, 3, 5),
            description="问题",
            category="quality",
        )
        # submitted and verified: what a provider may read of them
        Evaluation.objects.filter(pk=evaluation.pk).update(
            status="submitted", total_score=90, submitted_at=timezone.now()
        )
        SeriousProblemReport.objects.filter(pk=problem.pk).update(
            status="verified", decision_reason="属实", verified_on=datetime.date(2026, 3, 6)
        )
        side[key] = {
            "provider": provider,
            "town": place,
            "caregiver": caregiver,
            "recipient": recipient,
            "agreement": agreement,
            "visit": visit,
            "evaluation": evaluation,
            "problem": problem,
            "town_user": town_user,
            "provider_user": UserFactory(username=f"provider-{key}", role=Role.PROVIDER, provider=provider),
            "caregiver_user": user,
        }
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2026, 3, 1))
    for key in ("a", "b"):
        side[key]["provider_settlement"] = ProviderSettlement.objects.get(
            settlement=settlement, provider=side[key]["provider"]
        )
    side["settlement"] = settlement
    return side


SCOPED = [
    (Recipient, "recipient"),
    (Agreement, "agreement"),
    (Caregiver, "caregiver"),
    (Visit, "visit"),
    (Evaluation, "evaluation"),
    (SeriousProblemReport, "problem"),
    (ProviderSettlement, "provider_settlement"),
]


@pytest.mark.parametrize(("model", "key"), SCOPED)
@pytest.mark.parametrize("who", ["town_user", "provider_user", "caregiver_user"])
def test_each_role_sees_its_own_side_and_never_the_other(two_sides, bureau_user, model, key, who):
    mine, theirs = two_sides["a"][key], two_sides["b"][key]
    # bureau staff see both: the other side's row exists, so its absence below means something
    assert {mine.pk, theirs.pk} <= set(model.objects.for_actor(bureau_user).values_list("pk", flat=True))
    # the login as a request reads it, fresh from the database (nothing about it cached on the object)
    user = User.objects.get(pk=two_sides["a"][who].pk)
    seen = set(model.objects.for_actor(user).values_list("pk", flat=True))
    assert theirs.pk not in seen
    # a role sees its own row wherever the model is scoped for it
    expected_visible = {
        "town_user": {"recipient", "agreement", "caregiver", "visit", "evaluation", "problem"},
        "provider_user": {
            "recipient",
            "agreement",
            "caregiver",
            "visit",
            "evaluation",
            "problem",
            "provider_settlement",
        },
        "caregiver_user": {"recipient", "agreement", "caregiver", "visit"},
    }[who]
    assert (mine.pk in seen) == (key in expected_visible)


@pytest.mark.parametrize(("model", "key"), SCOPED)
def test_a_caregiver_login_without_a_caregiver_record_sees_nothing(two_sides, model, key):
    """A login with the caregiver role whose caregiver record is missing (never made, or deleted) must not see the
    county: a missing scope is nothing, not everything."""
    orphan = UserFactory(username="caregiver-orphan", role=Role.CAREGIVER)
    assert model.objects.for_actor(orphan).count() == 0


def test_a_model_not_scoped_for_a_role_is_invisible_to_it(two_sides, bureau_user):
    """Spot checks are scoped to towns only; settlements to providers and finance: anyone else sees none (the
    fallback), whatever exists."""
    a = two_sides["a"]
    supervision.spot_check_record(
        actor=a["town_user"],
        recipient=a["recipient"],
        method="onsite",
        result="ok",
        finding="",
        checked_on=datetime.date(2026, 3, 4),
    )
    assert SpotCheck.objects.for_actor(a["town_user"]).count() == 1
    assert SpotCheck.objects.for_actor(a["provider_user"]).count() == 0
    assert SpotCheck.objects.for_actor(a["caregiver_user"]).count() == 0
    assert Settlement.objects.for_actor(a["town_user"]).count() == 0
    assert Settlement.objects.for_actor(a["caregiver_user"]).count() == 0
    assert Evaluation.objects.for_actor(UserFactory(username="fin", role=Role.FINANCE)).count() == 0


def test_finance_reads_every_settlement_and_bureau_staff_everything(two_sides, bureau_user):
    finance = UserFactory(username="finance-x", role=Role.FINANCE)
    assert ProviderSettlement.objects.for_actor(finance).count() == 2
    superuser = UserFactory(username="root-x", role=Role.TOWN, town=town("燕塔街道"), is_superuser=True)
    assert Recipient.objects.for_actor(superuser).count() == Recipient.objects.count() == 2


def test_inactive_or_anonymous_users_see_nothing(two_sides):
    from django.contrib.auth.models import AnonymousUser

    inactive = UserFactory(username="gone", role=Role.TOWN, town=town("燕塔街道"), is_active=False)
    assert Recipient.objects.for_actor(inactive).count() == 0
    assert Recipient.objects.for_actor(AnonymousUser()).count() == 0
    assert Recipient.objects.for_actor(None).count() == 0


def test_a_provider_sees_a_recipient_through_either_its_towns_or_its_agreements_once(two_sides):
    """Recipients are visible to a provider through a contract (in force or yet to start) for their town OR a
    current agreement with them under such a contract; a recipient reached both ways, or through two agreements, is
    listed once. An agreement in a town none of its contracts serves gives no access (access follows service)."""
    a, b = two_sides["a"], two_sides["b"]
    # a second agreement of A's recipient with A (an earlier one, ended)
    AgreementFactory(
        recipient=a["recipient"],
        provider=a["provider"],
        caregiver=a["caregiver"],
        start_date=datetime.date(2023, 1, 1),
        end_date=datetime.date(2023, 12, 31),
    )
    # a 朝城镇 recipient that provider A serves by agreement only (its contract does not cover 朝城镇)
    crossing = RecipientFactory(village=b["recipient"].village)
    AgreementFactory(recipient=crossing, provider=a["provider"], caregiver=a["caregiver"])
    # a 燕塔街道 recipient with no agreement yet: visible to A through its contract for the town
    waiting = RecipientFactory(village=a["recipient"].village)
    seen = list(Recipient.objects.for_actor(a["provider_user"]).values_list("pk", flat=True))
    assert sorted(seen) == sorted([a["recipient"].pk, waiting.pk])
    assert crossing.pk not in seen
    # the caregiver sees the people assigned to them under a contract in force, each once
    assigned = list(Recipient.objects.for_actor(a["caregiver_user"]).values_list("pk", flat=True))
    assert sorted(assigned) == [a["recipient"].pk]


def test_objects_outside_the_scope_are_404_and_malformed_ids_too(two_sides):
    a, b = two_sides["a"], two_sides["b"]
    user = a["provider_user"]
    assert get_for_actor_or_404(Recipient.objects.all(), user, pk=a["recipient"].pk) == a["recipient"]
    for lookup in ({"pk": b["recipient"].pk}, {"pk": "abc"}, {"pk": 10**9}):
        with pytest.raises(Http404, match="^未找到该记录，或您无权查看。$"):
            get_for_actor_or_404(Recipient.objects.all(), user, **lookup)


def test_scope_keys_and_rows_owned_by_one_person(two_sides, bureau_user):
    from shenxian_care.models import ExportJob

    a = two_sides["a"]
    assert scope_key(a["town_user"]) == f"town:{a['town'].pk}"
    assert scope_key(a["provider_user"]) == f"provider:{a['provider'].pk}"
    assert scope_key(a["caregiver_user"]) == f"caregiver:{a['caregiver'].pk}"
    assert scope_key(bureau_user) == "bureau"
    assert scope_key(UserFactory(username="fin-k", role=Role.FINANCE)) == "finance"
    assert scope_key(None) == ""
    assert owned_by(ExportJob.objects.all(), None, owner="requested_by", scope="scope").count() == 0


def test_an_export_is_seen_only_by_the_person_who_asked_in_the_scope_they_asked_in(two_sides, bureau_user):
    from shenxian_care.models import ExportJob

    a, b = two_sides["a"], two_sides["b"]
    mine = ExportJob.objects.create(requested_by=a["town_user"], kind="visits", scope=scope_key(a["town_user"]))
    ExportJob.objects.create(requested_by=b["town_user"], kind="visits", scope=scope_key(b["town_user"]))
    ExportJob.objects.create(requested_by=bureau_user, kind="visits", scope="bureau")
    assert list(ExportJob.objects.for_actor(a["town_user"])) == [mine]
    # after the official moved town, the file built for the old town is no longer theirs to fetch
    moved = User.objects.get(pk=a["town_user"].pk)
    moved.town = b["town"]
    moved.save()
    assert list(ExportJob.objects.for_actor(moved)) == []


def test_the_caregiver_behind_a_login_is_read_once_with_its_provider_and_without_secrets(
    two_sides, django_assert_num_queries
):
    from shenxian_care.scoping import caregiver_of

    a = two_sides["a"]
    user = User.objects.get(pk=a["caregiver_user"].pk)
    with django_assert_num_queries(1):
        caregiver = caregiver_of(user)
        assert caregiver == a["caregiver"]
        assert caregiver.provider == a["provider"]  # read in the same query
        assert caregiver_of(user) is caregiver  # kept on the login: no second query
    assert {"id_number", "bank_account_number"} <= caregiver.get_deferred_fields()
    assert "bank_account_number" in caregiver.provider.get_deferred_fields()
    # twice in one request: the same records both times
    assert Recipient.objects.for_actor(user).count() == Recipient.objects.for_actor(user).count() == 1


def test_a_town_lists_a_caregiver_and_a_provider_once_however_many_links_it_has(two_sides):
    """A town official reaches caregivers through their agreements and providers through their contracts, both
    to-many: 甲 serving a second person in 燕塔街道 and provider A holding a second contract for the town are still
    one caregiver and one provider on the town's lists (read through a subquery, never a duplicating join)."""
    from contracts.models import Provider

    a = two_sides["a"]
    second = RecipientFactory(village=a["recipient"].village)
    AgreementFactory(recipient=second, provider=a["provider"], caregiver=a["caregiver"])
    ContractFactory(provider=a["provider"], towns=[a["town"]])
    assert Agreement.objects.filter(caregiver=a["caregiver"], town=a["town"]).count() == 2

    caregivers = list(Caregiver.objects.for_actor(a["town_user"]).values_list("pk", flat=True))
    providers = list(Provider.objects.for_actor(a["town_user"]).values_list("pk", flat=True))

    assert caregivers == [a["caregiver"].pk]
    assert providers == [a["provider"].pk]


def test_who_a_provider_serves_is_what_the_registered_rule_says(two_sides, monkeypatch):
    """Scoping does not know agreements: the contracts app registers the rule of who a provider's staff serve, and
    `for_actor` follows it. Registered here to say "B's recipient", provider A's staff see that person and not
    their own (the rule restored after the test)."""
    from shenxian_care import scoping

    a, b = two_sides["a"], two_sides["b"]
    monkeypatch.setitem(scoping._served, Role.PROVIDER, scoping._served.get(Role.PROVIDER))

    scoping.register_served_recipients(Role.PROVIDER, lambda user: Recipient.objects.filter(pk=b["recipient"].pk))

    seen = list(Recipient.objects.for_actor(a["provider_user"]).values_list("pk", flat=True))
    assert seen == [b["recipient"].pk]
