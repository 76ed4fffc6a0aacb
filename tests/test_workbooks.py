"""Every workbook the portal produces can be printed and filed (shenxian_care.excel.PrintableSheet): a title row
(unit, month, 制表日期), a frozen header, money as numbers shown #,##0.00, ID and account columns as text, a 合计
row, sign-off lines, and no cell that runs as a formula."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.exports import SHEET_TITLES
from recipients.imports import COLUMNS
from tests.billing.conftest import billed, two_provider_month  # noqa: F401  (fixtures)
from tests.excel import read_table
from tests.services.test_reports import march  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

ID_COLUMNS = {"身份证号", "统一社会信用代码", "银行账号", "监护人身份证号", "联系电话"}
MONEY_COLUMNS = ("金额", "(元)", "标准(元/月)")


def check_printable(content, sheet=None, *, unit, month=None, signed=True):
    table = read_table(content, sheet)
    ws = table.sheet
    # the title rows: what, then the unit, the month and the day it was made
    assert table.header_row == 3 and ws.freeze_panes == "A4"
    assert table.titles[0][0] and "莘县" in table.titles[0][0]
    made = table.titles[1][0]
    assert f"编制单位：{unit}" in made
    assert f"制表日期：{timezone.localdate():%Y年%m月%d日}" in made
    if month is not None:
        assert f"月份：{month:%Y年%m月}" in made
    assert ws.print_title_rows == "$3:$3"
    # every column wide enough for its header
    for index, title in enumerate(table.header, start=1):
        letter = ws.cell(row=3, column=index).column_letter
        assert ws.column_dimensions[letter].width >= len(title), title
    # formats row by row: money as numbers #,##0.00, ID and account numbers as text
    for row_number in range(table.header_row + 1, table.header_row + 1 + len(table.body) + 1):
        for index, title in enumerate(table.header, start=1):
            cell = ws.cell(row=row_number, column=index)
            if any(mark in title for mark in MONEY_COLUMNS) and cell.value is not None:
                assert isinstance(cell.value, (int, float)), (title, cell.value)
                assert cell.number_format == "#,##0.00", title
            if title in ID_COLUMNS:
                assert cell.number_format == "@", title
                assert cell.value is None or isinstance(cell.value, str), title
    assert table.total is not None and table.total[0] == "合计"
    if signed:
        assert any(r and r[0] and "制表人" in r[0] and "审核人" in r[0] and "负责人" in r[0] for r in table.after)
    # nothing runs as a formula
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    return table


def test_the_settlement_workbook_and_each_of_its_sheets(client_as, bureau_user, two_provider_month, exported):  # noqa: F811
    settlement, _, _ = two_provider_month
    client = client_as(bureau_user)
    whole = exported(client, reverse("billing:settlement_download", args=[settlement.pk]))
    for title in SHEET_TITLES.values():
        check_printable(whole.content, title, unit="莘县民政局", month=settlement.month)
    for sheet, title in SHEET_TITLES.items():
        one = exported(client, reverse("billing:settlement_download_sheet", args=[settlement.pk, sheet]))
        check_printable(one.content, title, unit="莘县民政局", month=settlement.month)


def test_a_providers_settlement_names_the_provider_as_its_unit(client_as, provider_user, provider, two_provider_month,  # noqa: F811
                                                                exported):  # fmt: skip
    settlement, _, _ = two_provider_month
    download = exported(client_as(provider_user), reverse("billing:settlement_download", args=[settlement.pk]))
    check_printable(download.content, "支付清单", unit=provider.name, month=settlement.month)


@pytest.mark.parametrize("group", ["recipient", "caregiver", "provider", "town"])
def test_the_compliance_report(client_as, bureau_user, town_user, march, exported, group):  # noqa: F811
    url = reverse("services:compliance_export")
    download = exported(client_as(bureau_user), url, {"month": "2025-03", "group": group})
    table = check_printable(download.content, unit="莘县民政局", month=datetime.date(2025, 3, 1))
    rate = table.header.index("达标率") + 1
    assert table.sheet.cell(row=4, column=rate).number_format == "0.0%"
    town_copy = exported(client_as(town_user), url, {"month": "2025-03", "group": group})
    check_printable(town_copy.content, unit="燕塔街道", month=datetime.date(2025, 3, 1))


def test_a_name_that_looks_like_a_formula_is_written_as_text(client_as, bureau_user, march, exported):  # noqa: F811
    yanta, _, _ = march
    type(yanta.recipient).objects.filter(pk=yanta.recipient_id).update(name='=HYPERLINK("http://x","点我")')
    download = exported(
        client_as(bureau_user), reverse("services:compliance_export"), {"month": "2025-03", "group": "recipient"}
    )
    table = check_printable(download.content, unit="莘县民政局", month=datetime.date(2025, 3, 1))
    assert '\'=HYPERLINK("http://x","点我")' in [row[2] for row in table.body]


def test_the_roster_template_keeps_a_typed_id_number_as_text(client_as, bureau_user):
    from openpyxl import load_workbook

    content = client_as(bureau_user).get(reverse("recipients:roster_template")).content
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    # a form that comes back through the import: its header is row 1, frozen
    assert [c.value for c in ws[1]] == COLUMNS and ws.freeze_panes == "A2"
    for title in ("身份证号", "监护人身份证号", "联系电话"):
        letter = ws.cell(row=1, column=COLUMNS.index(title) + 1).column_letter
        assert ws.column_dimensions[letter].number_format == "@", title  # what is typed below stays text
        assert ws[f"{letter}2"].number_format == "@"
    assert isinstance(ws["B2"].value, str) and len(ws["B2"].value) == 18


def test_the_admins_audit_exports(client, bureau_user):
    from auditlog.models import LogEntry

    from tests.factories import RecipientFactory

    RecipientFactory(name="=1+1")
    client.force_login(bureau_user)
    ids = list(LogEntry.objects.values_list("pk", flat=True))
    response = client.post("/admin/auditlog/logentry/", {"action": "export_xlsx", "_selected_action": ids, "index": 0})
    table = check_printable(response.content, unit="莘县民政局")
    assert table.total[1] == f"{len(ids)}条" and len(table.body) == len(ids)


def test_the_admins_security_event_export(client, bureau_user):
    from shenxian_care.audit import record_event
    from shenxian_care.models import SecurityEvent, SecurityEventKind

    record_event(kind=SecurityEventKind.SIGN_IN_FAILED, username="=cmd|' /C calc'!A0", reason="密码错误")
    client.force_login(bureau_user)  # a sign-in is recorded too
    ids = list(SecurityEvent.objects.values_list("pk", flat=True))
    response = client.post(
        "/admin/shenxian_care/securityevent/", {"action": "export_xlsx", "_selected_action": ids, "index": 0}
    )
    table = check_printable(response.content, unit="莘县民政局")
    assert table.titles[0][0] == "莘县特困人员照料服务平台安全审计事件"
    assert len(table.body) == len(ids) >= 1


def test_the_finance_bureaus_copy_of_the_settlement(client_as, finance_user, two_provider_month, exported):  # noqa: F811
    settlement, _, _ = two_provider_month
    download = exported(client_as(finance_user), reverse("billing:settlement_download", args=[settlement.pk]))
    for title in SHEET_TITLES.values():
        check_printable(download.content, title, unit="莘县财政局", month=settlement.month)
