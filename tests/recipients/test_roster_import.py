"""The monthly roster import: good file, each kind of bad row, all-or-nothing, the diff, idempotence."""

import datetime
import io

import pytest
from openpyxl import Workbook

from recipients.actions import roster_apply, roster_preview
from recipients.imports import COLUMNS, template_workbook_bytes
from recipients.models import LevelApproval, MonthlyRoster, Recipient, RosterStatus, SupportExit, Village
from recipients.selectors import level_on
from shenxian_care.exceptions import ApplicationError
from tests.factories import RecipientFactory, VillageFactory, make_id_number, town

MONTH = datetime.date(2026, 10, 1)


def workbook(rows, header=COLUMNS):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def row(
    name="王大爷", id_number=None, town_name="燕塔街道", village="东关村", level="半失能", entry="2024-01-01", **kw
):
    values = {
        "姓名": name,
        "身份证号": id_number or make_id_number(),
        "镇(街道)": town_name,
        "村(居)": village,
        "自理能力": level,
        "纳入日期": entry,
        "退出日期": kw.get("exit"),
        "监护人": kw.get("guardian"),
        "监护人身份证号": kw.get("guardian_id"),
        "联系电话": kw.get("phone", "13800000000"),
        "住址": kw.get("address", "东关村1号"),
    }
    return [values[c] for c in COLUMNS]


def preview_and_apply(bureau_user, content, month=MONTH):
    roster = roster_preview(actor=bureau_user, month=month, file_name="名单.xlsx", content=content)
    return roster, roster_apply(actor=bureau_user, roster=roster)


@pytest.mark.django_db
def test_good_file_registers_recipients_with_their_levels(bureau_user):
    # given a roster of three people at the three levels
    ids = [make_id_number() for _ in range(3)]
    content = workbook(
        [
            row("甲", ids[0], level="自理"),
            row("乙", ids[1], level="半失能", village="西关村"),
            row("丙", ids[2], level="失能", town_name="朝城镇", village="北街村", entry="2026-10-10"),
        ]
    )
    # when it is previewed and applied
    roster, applied = preview_and_apply(bureau_user, content)
    # then all three are registered, with approved levels, and the new villages are listed
    assert applied.status == RosterStatus.APPLIED
    assert Recipient.objects.count() == 3
    third = Recipient.objects.with_id_number(ids[2]).get()
    assert third.town.name == "朝城镇" and third.entry_date == datetime.date(2026, 10, 10)
    assert level_on(third, datetime.date(2026, 10, 10)) == "full"
    assert level_on(third, datetime.date(2026, 10, 9)) is None
    assert level_on(Recipient.objects.with_id_number(ids[0]).get(), MONTH) == "self_care"
    assert sorted(applied.created_villages) == ["朝城镇北街村", "燕塔街道东关村", "燕塔街道西关村"]
    assert [n["name"] for n in roster.diff["new"]] == ["甲", "乙", "丙"]
    # the diff never shows a full ID number
    assert all("*" in n["id_number"] for n in roster.diff["new"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        (row(name=""), "姓名", "不能为空"),
        (row(id_number="371522195003070012"), "身份证号", "校验码"),
        (row(id_number="37152219500307001"), "身份证号", "18位"),
        (row(id_number="371522195002300011"), "身份证号", "出生日期"),
        (row(town_name="聊城市东昌府区"), "镇(街道)", "未知的镇"),
        (row(village=""), "村(居)", "不能为空"),
        (row(level="部分失能"), "自理能力", "无法识别"),
        (row(entry="2024-13-45"), "纳入日期", "不是有效日期"),
        (row(entry=None), "纳入日期", "不能为空"),
        (row(entry="2026-11-02"), "纳入日期", "晚于名单月份"),
        (row(exit="2023-01-01"), "退出日期", "不能早于纳入日期"),
        (row(guardian="王监护", guardian_id="12345"), "监护人身份证号", "18位"),
        (row(phone="12345"), "联系电话", "格式不正确"),
    ],
)
def test_each_kind_of_bad_row_is_reported_by_row_and_column_and_nothing_changes(bureau_user, bad_row, column, fragment):
    content = workbook([row("好人"), bad_row])
    with pytest.raises(ApplicationError) as exc:
        roster_preview(actor=bureau_user, month=MONTH, file_name="名单.xlsx", content=content)
    errors = exc.value.extra["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, column)]
    assert fragment in errors[0]["message"]
    assert "未导入任何数据" in exc.value.message
    # all-or-nothing: the good row was not applied either
    assert Recipient.objects.count() == 0
    assert MonthlyRoster.objects.count() == 0
    assert not Village.objects.filter(name="东关村").exists()


@pytest.mark.django_db
def test_duplicate_id_in_the_file_is_an_error(bureau_user):
    same = make_id_number()
    with pytest.raises(ApplicationError) as exc:
        roster_preview(
            actor=bureau_user, month=MONTH, file_name="x.xlsx", content=workbook([row("甲", same), row("乙", same)])
        )
    assert exc.value.extra["errors"][0]["message"] == "与第2行身份证号重复。"


@pytest.mark.django_db
def test_not_an_excel_file_or_wrong_headers(bureau_user):
    with pytest.raises(ApplicationError, match="xlsx"):
        roster_preview(actor=bureau_user, month=MONTH, file_name="x.csv", content=b"\xff\xfe not excel")
    with pytest.raises(ApplicationError, match="表头缺少必填列：身份证号"):
        roster_preview(
            actor=bureau_user,
            month=MONTH,
            file_name="x.xlsx",
            content=workbook([["甲"]], header=["姓名", "镇（街道）", "村（居）", "自理能力", "纳入日期"]),
        )


@pytest.mark.django_db
def test_headers_with_full_width_brackets_are_accepted(bureau_user):
    header = [c.replace("(", "（").replace(")", "）") for c in COLUMNS]
    roster = roster_preview(actor=bureau_user, month=MONTH, file_name="x.xlsx", content=workbook([row()], header))
    assert roster.diff["total"] == 1


@pytest.mark.django_db
def test_same_file_twice_changes_nothing_the_second_time(bureau_user):
    content = workbook([row("甲"), row("乙", level="失能", exit="2026-10-20")])
    preview_and_apply(bureau_user, content)
    counts = (
        Recipient.objects.count(),
        LevelApproval.objects.count(),
        SupportExit.objects.count(),
        Village.objects.count(),
    )
    second, applied = preview_and_apply(bureau_user, content)
    assert second.diff["has_changes"] is False
    assert second.diff["unchanged"] == 2
    assert (
        Recipient.objects.count(),
        LevelApproval.objects.count(),
        SupportExit.objects.count(),
        Village.objects.count(),
    ) == counts
    assert MonthlyRoster.objects.filter(month=MONTH, status=RosterStatus.APPLIED).count() == 1
    second.refresh_from_db()
    assert second.status == RosterStatus.DISCARDED


@pytest.mark.django_db
def test_diff_against_last_month_shows_new_exited_level_conflict_moved_and_missing(bureau_user):
    yanta = VillageFactory(town=town("燕塔街道"), name="东关村")
    stays, upgraded, moves, leaves, vanishes = (RecipientFactory(village=yanta, level="self_care") for _ in range(5))
    september = workbook(
        [row(r.name, r.id_number, village="东关村", level="自理") for r in (stays, upgraded, moves, leaves, vanishes)]
    )
    preview_and_apply(bureau_user, september, month=datetime.date(2026, 9, 1))
    newcomer = make_id_number()
    october = workbook(
        [
            row(stays.name, stays.id_number, village="东关村", level="自理"),
            row(upgraded.name, upgraded.id_number, village="东关村", level="失能"),
            row(moves.name, moves.id_number, town_name="朝城镇", village="南街村", level="自理"),
            row(leaves.name, leaves.id_number, village="东关村", level="自理", exit="2026-10-20"),
            row("新人", newcomer, village="东关村", level="半失能", entry="2026-10-05"),
        ]
    )
    roster = roster_preview(actor=bureau_user, month=MONTH, file_name="10月.xlsx", content=october)
    diff = roster.diff
    assert [d["name"] for d in diff["new"]] == ["新人"]
    assert [(d["name"], d["exit_date"]) for d in diff["exited"]] == [(leaves.name, "2026-10-20")]
    # The roster says 失能 (626.00) where the bureau approved 自理 (189.00): a conflict, not a change.
    assert [(d["name"], d["approved"], d["roster"]) for d in diff["level_conflicts"]] == [
        (upgraded.name, "自理", "失能")
    ]
    assert [(d["name"], d["from"], d["to"]) for d in diff["moved_town"]] == [(moves.name, "燕塔街道", "朝城镇")]
    assert [d["name"] for d in diff["missing"]] == [vanishes.name]
    assert diff["unchanged"] == 2  # the conflict alone changes nothing
    # Preview writes nothing to the registry.
    assert level_on(upgraded, MONTH) == "self_care"

    roster_apply(actor=bureau_user, roster=roster)
    upgraded.refresh_from_db()
    moves.refresh_from_db()
    leaves.refresh_from_db()
    vanishes.refresh_from_db()
    # Applying never re-approves a typed level: the approved 自理 stands until an assessment changes it.
    assert level_on(upgraded, MONTH) == "self_care"
    assert not LevelApproval.objects.filter(recipient=upgraded, level="full").exists()
    assert moves.town.name == "朝城镇" and moves.village.name == "南街村"
    assert leaves.exit_date == datetime.date(2026, 10, 20)
    assert SupportExit.objects.get(recipient=leaves).status == "approved"
    # Missing people are not exited by the import: that needs the bureau's own approval.
    assert vanishes.exit_date is None


@pytest.mark.django_db
def test_only_bureau_staff_import(town_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        roster_preview(actor=town_user, month=MONTH, file_name="x.xlsx", content=workbook([row()]))


def test_template_has_the_chinese_headers():
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template_workbook_bytes()), read_only=True)
    header = next(wb.worksheets[0].iter_rows(values_only=True))
    assert list(header) == COLUMNS


@pytest.mark.django_db
def test_management_command_imports_and_reports(bureau_user, tmp_path, capsys):
    from django.core.management import CommandError, call_command

    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook([row("甲"), row("乙", level="失能")]))
    call_command("import_roster", str(good), month="2026-10", dry_run=True)
    assert Recipient.objects.count() == 0
    # the file's village is new: refused until confirmed, as on the page
    with pytest.raises(CommandError, match="名单需要确认，未写入名册。"):
        call_command("import_roster", str(good), month="2026-10")
    assert "名单中有1个村（居）在系统中没有：燕塔街道东关村" in capsys.readouterr().err
    assert Recipient.objects.count() == 0
    call_command("import_roster", str(good), month="2026-10", confirm=["villages"])
    assert Recipient.objects.count() == 2
    assert "新增2" in capsys.readouterr().out
    call_command("import_roster", str(good), month="2026-10")
    assert "未作任何改动" in capsys.readouterr().out

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([row("丙", town_name="不存在镇")]))
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_roster", str(bad), month="2026-10")
    assert "第2行 [镇(街道)]" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_preview_page_shows_a_level_conflict_and_says_the_approved_level_stands(client_as, bureau_user):
    """The bureau approved 失能 (626.00); the provincial roster says 自理 (189.00): the preview page lists the
    conflict with both levels, and the approved level is what billing keeps using."""
    from django.urls import reverse

    yanta = VillageFactory(town=town("燕塔街道"), name="东关村")
    person = RecipientFactory(village=yanta, level="full")
    content = workbook([row(person.name, person.id_number, village="东关村", level="自理")])
    roster = roster_preview(actor=bureau_user, month=MONTH, file_name="10月.xlsx", content=content)

    page = client_as(bureau_user).get(reverse("recipients:roster_preview", args=[roster.pk])).content.decode()

    assert "等级冲突（1）" in page and "审定等级继续有效" in page
    assert "失能" in page and "自理" in page
    roster_apply(actor=bureau_user, roster=roster)
    assert level_on(person, MONTH) == "full"
