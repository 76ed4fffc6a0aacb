"""The desk (工作台): each role's home page lists what waits for it, as counts scoped by the role that link to
the lists behind them, in a fixed number of queries whatever the county's size."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Settlement
from contracts.models import AgreementStatus
from contracts.selectors import contracts_ending_within
from recipients import actions as registry
from recipients.models import Assessment
from shenxian_care.desk import desk_items
from supervision.models import CrossCheckBatch, CrossCheckHit, Evaluation, RectificationNotice
from tests.factories import AgreementFactory, ContractFactory, RecipientFactory, VillageFactory, town
from tests.supervision.factories import make_visit, serve

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 3)
_numbers = itertools.count(1)
ANSWERS = {f: i >= 2 for i, (f, _) in enumerate(Assessment.INDICATORS)}


def counts(user, today=TODAY):
    return {item.label: item.count for item in desk_items(actor=user, today=today)}


def waiting_world(n, *, bureau, town_user, provider, other_provider):
    """`n` of everything that waits, in 燕塔街道 for `provider`, and the same again in 朝城镇 for
    `other_provider` (which the town official and the provider must not count)."""
    for place, who in (("燕塔街道", provider), ("朝城镇", other_provider)):
        village = VillageFactory(town=town(place), name=f"{place}待办村")
        if not who.contracts.exists():
            ContractFactory(provider=who, towns=[town(place)])  # each provider serves its own town only
        agreements = serve(who, place, n=n)
        for agreement in agreements:
            make_visit(agreement, datetime.date(2026, 11, 20), status="exception")
            RectificationNotice.objects.create(
                number=f"ZG-{next(_numbers)}",
                provider=who,
                town=town(place),
                source="other",
                problem="未按计划上门",
                issued_on=datetime.date(2026, 11, 1),
                deadline=datetime.date(2026, 11, 15),
                status="overdue",
                overdue_on=datetime.date(2026, 11, 16),
                issued_by=bureau,
            )
        for _ in range(n):
            first = RecipientFactory(village=village, level=False)
            registry.assessment_create(actor=bureau, recipient=first, assessed_on=TODAY, answers=ANSWERS)
            changed = RecipientFactory(village=village)
            registry.assessment_create(actor=bureau, recipient=changed, assessed_on=TODAY, answers=ANSWERS)
            leaving = RecipientFactory(village=village)
            registry.exit_report(actor=bureau, recipient=leaving, reason="death", occurred_on=TODAY)
            AgreementFactory(recipient=RecipientFactory(village=village), provider=who, status=AgreementStatus.DRAFT,
                             signed_on=None)  # fmt: skip
            RecipientFactory(village=village)  # in support, no agreement yet
            ContractFactory(provider=who, towns=[town(place)], end_date=TODAY + datetime.timedelta(days=30))
        batch = CrossCheckBatch.objects.create(
            file_name="比对.xlsx", file_sha256="0" * 64, row_count=n, imported_by=bureau
        )
        for i, agreement in enumerate(agreements):
            CrossCheckHit.objects.create(
                batch=batch, recipient=agreement.recipient, row_number=i + 2, event="death",
                event_date=datetime.date(2026, 11, 1),
            )  # fmt: skip
    # a returned report of the town's own
    returned = registry.exit_report(actor=town_user, recipient=RecipientFactory(), reason="moved", occurred_on=TODAY)
    registry.exit_reject(actor=bureau, support_exit=returned, reason="户籍未迁出")
    Settlement.objects.get_or_create(
        month=datetime.date(2026, 9, 1),
        defaults={"status": "confirmed", "confirmed_at": datetime.datetime(2026, 10, 5, tzinfo=datetime.UTC)},
    )
    Settlement.objects.get_or_create(month=datetime.date(2026, 10, 1))


@pytest.fixture
def world(bureau_user, town_user, provider, other_provider):
    def build(n):
        waiting_world(n, bureau=bureau_user, town_user=town_user, provider=provider, other_provider=other_provider)

    return build


def test_bureau_sees_everything_that_waits_county_wide(world, bureau_user):
    world(2)
    found = counts(bureau_user)
    assert found["自理能力评估待审定"] == 4
    assert found["等级变更待审定"] == 4
    assert found["退出供养待审定"] == 4
    assert found["待复核的异常服务记录"] == 4
    assert found["逾期未整改的整改通知"] == 4
    assert found["数据比对待核实的疑点"] == 4
    assert found["2026年11月考评未提交（镇街×机构）"] == 2
    assert found["60天内到期的购买服务合同"] == 4
    assert found["2026年11月尚未计算结算"] == 1
    assert found["待确认的结算（草稿）"] == 1


def test_town_sees_only_its_own(world, town_user):
    world(2)
    assert counts(town_user) == {
        "被退回的报告（待修正重报）": 1,
        "待本镇（街道）签订的协议": 2,
        "2026年11月待填报的考评": 1,
    }


def test_a_submitted_evaluation_is_no_longer_due(world, town_user, provider):
    world(1)
    from supervision.selectors import current_sheet

    Evaluation.objects.create(
        town=town("燕塔街道"), provider=provider, month=datetime.date(2026, 11, 1), status="submitted",
        sheet=current_sheet(), created_by=town_user, total_score=95,
        submitted_at=datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC),
    )  # fmt: skip
    assert counts(town_user)["2026年11月待填报的考评"] == 0


def test_provider_sees_only_its_own(world, provider_user):
    world(2)
    found = counts(provider_user)
    assert found["待答复的整改通知"] == 2
    assert found["已起草、待镇（街道）签订的协议"] == 2
    # in 燕塔街道 with no agreement: the two of each kind above, the draft's people excepted, the returned exit's
    # person (no agreement either) included
    assert found["在供养但尚无协议的人员（待起草签订）"] == 2 * 4 + 1


def test_finance_sees_months_to_pay(world, finance_user):
    world(1)
    assert counts(finance_user) == {"已确认、待登记支付的月份": 1}


def test_caregiver_lands_on_the_day(client_as, caregiver_user):
    response = client_as(caregiver_user).get(reverse("portal:home"))
    assert response.status_code == 302 and response.url == reverse("services:caregiver_day")


@pytest.mark.parametrize("who", ["bureau_user", "finance_user", "town_user", "provider_user"])
def test_each_count_links_to_a_page_the_role_may_open(request, world, client_as, who):
    world(1)
    user = request.getfixturevalue(who)
    client = client_as(user)
    page = client.get(reverse("portal:home")).content.decode()
    assert "工作台" in page
    for item in desk_items(actor=user):
        assert f'href="{item.url.replace("&", "&amp;")}"' in page
        assert client.get(item.url).status_code == 200, item.url


@pytest.mark.parametrize("who", ["bureau_user", "finance_user", "town_user", "provider_user"])
def test_the_desk_costs_the_same_queries_at_two_sizes(request, world, client_as, django_assert_num_queries, who):
    user = request.getfixturevalue(who)
    client = client_as(user)
    world(1)
    client.get(reverse("portal:home"))  # the session and the like, read once
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("portal:home"))
    world(4)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("portal:home"))


def test_contracts_ending_within(provider):
    soon = ContractFactory(provider=provider, end_date=TODAY + datetime.timedelta(days=60))
    ContractFactory(provider=provider, end_date=TODAY + datetime.timedelta(days=61))
    ContractFactory(provider=provider, end_date=TODAY - datetime.timedelta(days=1))
    today = ContractFactory(provider=provider, end_date=TODAY)
    ContractFactory(provider=provider, end_date=TODAY + datetime.timedelta(days=10), status="terminated",
                    terminated_on=TODAY)  # fmt: skip
    assert list(contracts_ending_within(60, TODAY)) == [today, soon]
