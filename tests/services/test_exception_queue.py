"""The exception queue (异常记录): cleared in batches by the bureau (all or nothing, audited like one review), each
row with its time and distance from home, filtered by town, provider and reason at a fixed cost."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from services import actions
from services.models import ExceptionReason, Visit, VisitStatus
from shenxian_care.exceptions import ApplicationError
from tests.factories import AgreementFactory, ProviderFactory, RecipientFactory, VillageFactory, town

from .factories import VisitFactory, local

pytestmark = pytest.mark.django_db

URL = "/portal/services/exceptions/"


def exception(reasons=("too_far",), *, agreement=None, distance=2010, **kwargs):
    return VisitFactory(
        agreement=agreement or AgreementFactory(),
        status=VisitStatus.EXCEPTION,
        exception_reasons=list(reasons),
        checkin_distance_m=distance,
        **kwargs,
    )


def in_town(name, **kwargs):
    return AgreementFactory(recipient=RecipientFactory(village=VillageFactory(town=town(name))), **kwargs)


def ticks(visit):
    return f'name="ids" value="{visit.pk}"'


def updates_of(visit):
    return LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.UPDATE)


def test_a_batch_is_cleared_with_one_reason_each_visit_audited_as_a_single_review(bureau_user):
    # given three exceptions, and one reviewed alone for comparison
    batch = [exception(), exception(["too_short"]), exception()]
    alone = exception()
    # when
    actions.visit_review_batch(
        actor=bureau_user, visit_ids=[v.pk for v in batch], accept=True, reason="山区信号差，已电话回访核实"
    )
    actions.visit_review(actor=bureau_user, visit=alone, accept=True, reason="山区信号差，已电话回访核实")
    # then
    for visit in [*batch, alone]:
        visit.refresh_from_db()
        assert (visit.status, visit.review_reason, visit.reviewed_by) == (
            VisitStatus.ACCEPTED,
            "山区信号差，已电话回访核实",
            bureau_user,
        )
        [entry] = updates_of(visit)
        assert set(entry.changes_dict) == {"status", "reviewed_by", "reviewed_at", "review_reason", "updated_at"}
        assert entry.changes_dict["status"] == ["exception", "accepted"]
    assert updates_of(batch[0]).get().changes_dict.keys() == updates_of(alone).get().changes_dict.keys()


def test_a_batch_rejected_does_not_count(bureau_user):
    visits = [exception(), exception()]
    actions.visit_review_batch(actor=bureau_user, visit_ids=[v.pk for v in visits], accept=False, reason="虚假定位")
    assert set(Visit.objects.values_list("status", flat=True)) == {VisitStatus.REJECTED}
    assert not Visit.objects.counted().exists()


def test_all_or_nothing_when_one_was_already_reviewed(bureau_user):
    first, taken, third = exception(), exception(started_at=local(2025, 3, 3, 14)), exception()
    actions.visit_review(actor=bureau_user, visit=taken, accept=False, reason="他人先审")
    with pytest.raises(ApplicationError, match="03-03 14:00") as caught:
        actions.visit_review_batch(
            actor=bureau_user, visit_ids=[first.pk, taken.pk, third.pk], accept=True, reason="核实"
        )
    assert "未作任何处理" in caught.value.message
    assert (
        list(Visit.objects.filter(pk__in=[first.pk, third.pk]).values_list("status", flat=True))
        == [VisitStatus.EXCEPTION] * 2
    )
    assert not updates_of(first).exists()


def test_all_or_nothing_when_an_id_is_not_a_visit(bureau_user):
    visit = exception()
    with pytest.raises(ApplicationError, match="1 条不存在"):
        actions.visit_review_batch(actor=bureau_user, visit_ids=[visit.pk, visit.pk + 1000], accept=True, reason="核实")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EXCEPTION


@pytest.mark.parametrize(
    ("ids", "reason", "message"),
    [
        ([], "核实", "请先勾选"),
        (None, "  ", "请填写审核意见"),
        (None, "长" * 201, "200字"),
        (range(1, 202), "核实", "最多"),
    ],
)
def test_a_batch_needs_visits_and_a_reason(bureau_user, ids, reason, message):
    visit = exception()
    with pytest.raises(ApplicationError, match=message):
        actions.visit_review_batch(
            actor=bureau_user, visit_ids=[visit.pk] if ids is None else ids, accept=True, reason=reason
        )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EXCEPTION


def test_only_the_bureau_clears(town_user, provider_user, finance_user, caregiver_user):
    visit = exception()
    for user in (town_user, provider_user, finance_user, caregiver_user):
        with pytest.raises(PermissionDenied):
            actions.visit_review_batch(actor=user, visit_ids=[visit.pk], accept=True, reason="核实")


def test_the_bureau_clears_a_batch_from_the_page(client_as, bureau_user):
    visits = [exception(), exception(), exception()]
    client = client_as(bureau_user)
    response = client.post(
        URL + "?reason=too_far",
        {"ids": [visits[0].pk, visits[1].pk, "abc", "9" * 30], "decision": "accept", "reason": "已电话回访"},
    )
    assert response.status_code == 302 and response.url == URL + "?reason=too_far"
    assert "已认可 2 条异常记录" in client.get(response.url).content.decode()
    assert [Visit.objects.get(pk=v.pk).status for v in visits] == ["accepted", "accepted", "exception"]


def test_a_refused_batch_shows_why_and_keeps_the_choices(client_as, bureau_user):
    visits = [exception(), exception()]
    response = client_as(bureau_user).post(URL, {"ids": [v.pk for v in visits], "decision": "reject", "reason": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "未作任何处理：请填写审核意见。" in html
    assert html.count(" checked>") == 2 + 1  # both rows still ticked, and the decision chosen
    assert set(Visit.objects.values_list("status", flat=True)) == {VisitStatus.EXCEPTION}


@pytest.mark.parametrize("decision", [None, "", "approve"])
def test_a_batch_without_a_clear_decision_is_neither_accepted_nor_rejected(client_as, bureau_user, decision):
    visit = exception()
    data = {"ids": [visit.pk], "reason": "核实"} | ({"decision": decision} if decision is not None else {})
    response = client_as(bureau_user).post(URL, data)
    assert response.status_code == 400
    assert "请选择认可或不予认可" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EXCEPTION


def test_towns_and_providers_see_the_queue_without_checkboxes_and_cannot_post(client_as, town_user, provider_user):
    visit = exception(agreement=AgreementFactory(provider=provider_user.provider))
    for user in (town_user, provider_user):
        client = client_as(user)
        html = client.get(URL).content.decode()
        assert visit.recipient.name in html and 'name="ids"' not in html and "提交审核" not in html
        assert client.post(URL, {"ids": [visit.pk], "decision": "accept", "reason": "x"}).status_code == 403
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EXCEPTION


def test_each_row_shows_when_and_how_far_from_home(client_as, bureau_user):
    exception(started_at=local(2025, 3, 3, 9, 5), minutes=45, distance=1987)
    exception(["no_position"], distance=None)
    html = client_as(bureau_user).get(URL).content.decode()
    assert "2025-03-03 09:05–09:50" in html
    assert "1987米" in html
    assert "无定位" in html


def test_filters_by_town_provider_and_reason(client_as, bureau_user):
    provider = ProviderFactory()
    far_in_chaocheng = exception(agreement=in_town("朝城镇", provider=provider))
    short_in_chaocheng = exception(["too_short"], agreement=in_town("朝城镇"))
    far_in_yanta = exception(agreement=in_town("燕塔街道"))
    client = client_as(bureau_user)

    def shown(query):
        html = client.get(URL + query).content.decode()
        return {v for v in (far_in_chaocheng, short_in_chaocheng, far_in_yanta) if ticks(v) in html}

    chaocheng = town("朝城镇").pk
    assert shown("") == {far_in_chaocheng, short_in_chaocheng, far_in_yanta}
    assert shown(f"?town={chaocheng}") == {far_in_chaocheng, short_in_chaocheng}
    assert shown("?reason=too_far") == {far_in_chaocheng, far_in_yanta}
    assert shown(f"?town={chaocheng}&reason=too_far") == {far_in_chaocheng}
    assert shown(f"?provider={provider.pk}") == {far_in_chaocheng}


@pytest.mark.parametrize(
    "query", ["?reason=nope", "?town=abc", "?provider=99999999999999999999999", "?month=2025-13", "?reason=%00"]
)
def test_a_bad_filter_is_named_and_left_out_never_a_500(client_as, bureau_user, query):
    visit = exception()
    response = client_as(bureau_user).get(URL + query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "筛选条件" in html and "无效" in html
    assert ticks(visit) in html  # the rest of the list as if the bad value were not given


def test_the_reason_filter_is_in_the_api_schema_and_works(api_as, bureau_user):
    exception(["too_short"])
    far = exception()
    client = api_as(bureau_user)
    rows = client.get("/api/v1/visits/?reason=too_far").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert [row["client_id"] for row in rows] == [str(far.client_id)]
    assert client.get("/api/v1/visits/?reason=nope").status_code == 400
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/visits/"]["get"]["parameters"]}
    assert sorted(parameters["reason"]["schema"]["enum"]) == sorted(ExceptionReason.values)


def test_query_count_is_fixed_whatever_the_rows(client_as, bureau_user, assert_fixed_queries):
    exception()
    client = client_as(bureau_user)

    def add_rows():
        for name in ("朝城镇", "燕塔街道", "观城镇"):
            for reasons in (["too_far"], ["too_far", "too_short"]):
                exception(reasons, agreement=in_town(name))

    assert_fixed_queries(lambda: client.get(URL + "?reason=too_far"), add_rows)
    html = client.get(URL + "?reason=too_far").content.decode()
    assert html.count('name="ids"') == 7
