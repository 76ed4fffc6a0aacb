import datetime

import pytest
from django.core.exceptions import PermissionDenied

from recipients.models import ApprovalStatus, ExitReason
from shenxian_care.exceptions import ApplicationError
from supervision import actions
from supervision.models import (
    CrossCheckBatch,
    CrossCheckHit,
    CrossCheckHitStatus,
    ProblemCategory,
    SeriousProblemReport,
)
from tests.factories import RecipientFactory, VillageFactory, make_id_number, town

from .factories import make_visit, serve, xlsx

pytestmark = pytest.mark.django_db

DEATH = datetime.date(2026, 9, 20)


def old_15_digit(id18):
    """The first-generation form of an 18-digit number born in the 1900s."""
    return id18[:6] + id18[8:17]


def test_matches_by_id_in_any_common_spelling(bureau_user, provider):
    # given four recipients in support; one number ends in X
    village = VillageFactory(town=town("燕塔街道"))
    plain, spaced, old, with_x = (RecipientFactory(village=village) for _ in range(4))
    x_number = next(n for n in (make_id_number() for _ in range(200)) if n.endswith("X"))
    with_x.id_number = x_number
    with_x.save()
    untouched = RecipientFactory(village=village)

    content = xlsx(
        [
            ("甲", plain.id_number, "死亡", DEATH),
            (
                "乙",
                f"{spaced.id_number[:6]} {spaced.id_number[6:14]} {spaced.id_number[14:]}",
                "户籍注销",
                "2026-09-21",
            ),
            ("丙", old_15_digit(old.id_number), "死亡", "2026年9月22日"),
            ("丁", x_number.lower(), "死亡", "20260923"),
            ("戊", make_id_number(), "死亡", DEATH),  # not one of ours
        ]
    )

    batch = actions.crosscheck_import(actor=bureau_user, content=content, file_name="公安死亡名单.xlsx")

    hits = {h.recipient_id: h for h in batch.hits.all()}
    assert set(hits) == {plain.pk, spaced.pk, old.pk, with_x.pk}
    assert untouched.pk not in hits
    assert hits[spaced.pk].event == "cancelled"
    assert hits[old.pk].event_date == datetime.date(2026, 9, 22)
    assert batch.row_count == 5


def test_visits_logged_after_the_date_are_counted(bureau_user, provider):
    agreement = serve(provider, "燕塔街道")[0]
    make_visit(agreement, DEATH)  # the day itself: not after
    make_visit(agreement, DEATH + datetime.timedelta(days=1))
    make_visit(agreement, DEATH + datetime.timedelta(days=8))

    batch = actions.crosscheck_import(
        actor=bureau_user, content=xlsx([("张", agreement.recipient.id_number, "死亡", DEATH)]), file_name="a.xlsx"
    )

    assert batch.hits.get().visits_after == 2


def test_recipient_already_out_of_support_is_not_flagged(bureau_user):
    gone = RecipientFactory(entry_date=datetime.date(2024, 1, 1))
    gone.exit_date = datetime.date(2026, 9, 1)
    gone.save()
    batch = actions.crosscheck_import(
        actor=bureau_user, content=xlsx([("张", gone.id_number, "死亡", DEATH)]), file_name="a.xlsx"
    )
    assert not batch.hits.exists()


def test_any_bad_row_imports_nothing_and_says_why(bureau_user):
    good = RecipientFactory()
    bad_check = good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1")
    content = xlsx(
        [
            ("甲", good.id_number, "死亡", DEATH),
            ("乙", bad_check, "死亡", DEATH),
            ("丙", make_id_number(), "迁出", DEATH),
            ("丁", make_id_number(), "死亡", "九月"),
            ("戊", good.id_number, "死亡", DEATH),
        ]
    )
    with pytest.raises(ApplicationError) as caught:
        actions.crosscheck_import(actor=bureau_user, content=content, file_name="a.xlsx")

    errors = caught.value.extra["errors"]
    assert any(e.startswith("第3行“身份证号”") and "校验码" in e for e in errors)
    assert any(e.startswith("第4行“情形”") for e in errors)
    assert any(e.startswith("第5行“日期”") for e in errors)
    assert any(e.startswith("第6行“身份证号”") and "与第2行重复" in e for e in errors)
    assert not CrossCheckBatch.objects.exists()
    assert not CrossCheckHit.objects.exists()


def test_missing_column_and_not_excel(bureau_user):
    with pytest.raises(ApplicationError, match="表头缺少列：日期"):
        actions.crosscheck_import(
            actor=bureau_user, content=xlsx([("a", "b", "死亡")], header=("姓名", "身份证号", "情形")), file_name="a"
        )
    with pytest.raises(ApplicationError, match="无法读取"):
        actions.crosscheck_import(actor=bureau_user, content=b"name,id\n", file_name="a.csv")


def test_confirm_exit_in_one_step(bureau_user, provider):
    agreement = serve(provider, "燕塔街道")[0]
    batch = actions.crosscheck_import(
        actor=bureau_user, content=xlsx([("张", agreement.recipient.id_number, "死亡", DEATH)]), file_name="a.xlsx"
    )
    hit = batch.hits.get()

    hit = actions.crosscheck_confirm_exit(actor=bureau_user, hit=hit)

    recipient = hit.recipient
    recipient.refresh_from_db()
    assert hit.status == CrossCheckHitStatus.CONFIRMED
    # died on 20 September per the public-security list: the day of death is paid, support ends from the 21st
    assert recipient.exit_date == DEATH + datetime.timedelta(days=1)
    assert hit.support_exit.occurred_on == DEATH
    assert hit.support_exit.status == ApprovalStatus.APPROVED
    assert hit.support_exit.reason == ExitReason.DEATH
    with pytest.raises(ApplicationError, match="已处理"):
        actions.crosscheck_confirm_exit(actor=bureau_user, hit=hit)


def test_dismiss_needs_a_note_and_only_bureau_imports(bureau_user, town_user):
    recipient = RecipientFactory()
    content = xlsx([("张", recipient.id_number, "死亡", DEATH)])
    with pytest.raises(PermissionDenied):
        actions.crosscheck_import(actor=town_user, content=content, file_name="a.xlsx")
    hit = actions.crosscheck_import(actor=bureau_user, content=content, file_name="a.xlsx").hits.get()
    with pytest.raises(ApplicationError, match="核实不符"):
        actions.crosscheck_dismiss(actor=bureau_user, hit=hit, note="")
    hit = actions.crosscheck_dismiss(actor=bureau_user, hit=hit, note="同名同号系录入错误，本人健在")
    assert hit.status == CrossCheckHitStatus.DISMISSED
    recipient.refresh_from_db()
    assert recipient.exit_date is None


def test_visits_after_death_can_become_a_false_data_report(bureau_user, provider, provider_contract):
    agreement = serve(provider, "燕塔街道")[0]
    make_visit(agreement, DEATH + datetime.timedelta(days=3))
    make_visit(agreement, DEATH + datetime.timedelta(days=10))
    batch = actions.crosscheck_import(
        actor=bureau_user, content=xlsx([("张", agreement.recipient.id_number, "死亡", DEATH)]), file_name="a.xlsx"
    )

    actions.crosscheck_confirm_exit(actor=bureau_user, hit=batch.hits.get(), report_false_data=True)

    report = SeriousProblemReport.objects.get()
    assert report.category == ProblemCategory.FALSE_DATA
    assert report.provider == provider
    assert report.occurred_on == DEATH + datetime.timedelta(days=3)
    assert "此后仍登记上门服务2次" in report.description
    # once verified, it vetoes the provider in the half-year review
    actions.serious_problem_verify(actor=bureau_user, report=report, reason="属实", rule=provider_contract[1])
    assert SeriousProblemReport.objects.verified_fraud().filter(provider=provider).exists()


def test_false_data_report_needs_visits_after_the_date(bureau_user, provider):
    agreement = serve(provider, "燕塔街道")[0]
    batch = actions.crosscheck_import(
        actor=bureau_user, content=xlsx([("张", agreement.recipient.id_number, "死亡", DEATH)]), file_name="a.xlsx"
    )
    with pytest.raises(ApplicationError, match="没有服务记录"):
        actions.crosscheck_confirm_exit(actor=bureau_user, hit=batch.hits.get(), report_false_data=True)
    agreement.recipient.refresh_from_db()
    assert agreement.recipient.exit_date is None  # all or nothing
