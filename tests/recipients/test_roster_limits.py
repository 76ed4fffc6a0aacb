"""The roster check applies every limit of the fields the rows are stored in, and a background step that fails
anyway marks the upload failed with the reason instead of leaving it 检查中 / 导入中 for ever."""

import datetime

import pytest
from django.db import DataError

from recipients import actions
from recipients.models import MonthlyRoster, Recipient, RosterStatus
from shenxian_care.exceptions import ApplicationError
from tests.factories import make_id_number
from tests.recipients.test_roster_import import row, workbook

MONTH = datetime.date(2026, 10, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        (row(guardian="王" * 100), "监护人", "过长（最多32个字"),
        (row(name="张" * 33), "姓名", "过长（最多32个字"),
        (row(village="村" * 65), "村(居)", "过长（最多64个字"),
        (row(address="址" * 201), "住址", "过长（最多200个字"),
        (row(entry="1900-01-01"), "纳入日期", "超出合理范围"),
        (row(entry="0001-01-01"), "纳入日期", "超出合理范围"),
        (row(exit="9999-12-31"), "退出日期", "超出合理范围"),
    ],
)
def test_a_value_its_field_cannot_hold_is_a_row_error(bureau_user, bad_row, column, fragment):
    content = workbook([row("好人"), bad_row])
    with pytest.raises(ApplicationError) as exc:
        actions.roster_preview(actor=bureau_user, month=MONTH, file_name="名单.xlsx", content=content)
    errors = exc.value.extra["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, column)]
    assert fragment in errors[0]["message"]
    assert MonthlyRoster.objects.count() == 0


@pytest.mark.django_db
def test_a_row_with_several_problems_lists_each_once(bureau_user):
    content = workbook([row(guardian="王" * 40, phone="12345", address="址" * 201)])
    with pytest.raises(ApplicationError) as exc:
        actions.roster_preview(actor=bureau_user, month=MONTH, file_name="名单.xlsx", content=content)
    assert sorted(e["column"] for e in exc.value.extra["errors"]) == ["住址", "监护人", "联系电话"]


@pytest.mark.django_db
def test_a_check_that_fails_marks_the_upload_failed(bureau_user, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise DataError("value too long for type character varying(32)")

    monkeypatch.setattr(actions, "parse_roster", broken)
    with django_capture_on_commit_callbacks(execute=True):
        roster = actions.roster_upload(
            actor=bureau_user, month=MONTH, file_name="名单.xlsx", content=workbook([row("甲")])
        )
    roster.refresh_from_db()
    assert roster.status == RosterStatus.FAILED
    assert "检查时出错（DataError）" in roster.error_message


@pytest.mark.django_db
def test_an_import_that_fails_marks_the_upload_failed_and_writes_nothing(
    bureau_user, monkeypatch, django_capture_on_commit_callbacks
):
    # given a roster that passed its check
    with django_capture_on_commit_callbacks(execute=True):
        roster = actions.roster_upload(
            actor=bureau_user, month=MONTH, file_name="名单.xlsx", content=workbook([row("甲", make_id_number())])
        )
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PREVIEW

    # when the database refuses something half-way through the import
    real = actions._apply_rows

    def refused(*args, **kwargs):
        real(*args, **kwargs)
        raise DataError("value too long for type character varying(32)")

    monkeypatch.setattr(actions, "_apply_rows", refused)
    with django_capture_on_commit_callbacks(execute=True):
        actions.roster_apply_request(actor=bureau_user, roster=roster, confirmed=["villages"])

    # then the roster is failed with the reason, not 导入中 for ever, and nothing was written
    roster.refresh_from_db()
    assert roster.status == RosterStatus.FAILED
    assert "导入时出错（DataError）" in roster.error_message and "未写入任何数据" in roster.error_message
    assert Recipient.objects.count() == 0
