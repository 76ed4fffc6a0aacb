"""Excel exports: headers, masked IDs, numbers as numbers, 合计 rows, formula escaping, scoping."""

import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from billing.exports import DETAIL_HEADER, safe_text
from shenxian_care.models import ExportJob, OutboxTask, SecurityEvent
from shenxian_care.progress import progress_of
from tests.excel import read_table

pytestmark = pytest.mark.django_db


def _sheets(content):
    """Each sheet's table, from its header to its 合计 row (the title rows above and the sign-off below left out)."""
    wb = load_workbook(io.BytesIO(content))
    tables = {}
    for ws in wb.worksheets:
        table = read_table(content, ws.title)
        tables[ws.title] = [list(table.header), *map(list, table.body), list(table.total)]
    return tables


def test_command_writes_the_four_sheets_with_totals(tmp_path, two_provider_month):
    settlement, ours, theirs = two_provider_month
    out = tmp_path / "march.xlsx"

    call_command("export_settlement", "--month", "2024-03", "--out", str(out))

    sheets = _sheets(out.read_bytes())
    assert list(sheets) == ["结算明细", "按镇汇总", "按机构汇总", "支付清单", "拨付审批表"]
    detail = sheets["结算明细"]
    header = detail[0]
    for column in ("姓名", "身份证号", "镇(街道)", "自理能力", "天数", "标准(元/月)", "金额(元)"):
        assert column in header
    rows = detail[1:-1]
    assert len(rows) == 3
    id_col, amount_col, days_col = header.index("身份证号"), header.index("金额(元)"), header.index("天数")
    assert all("*" in row[id_col] and len(row[id_col]) == 18 for row in rows)
    assert {r.id_number for r in [*ours, theirs]}.isdisjoint({row[id_col] for row in rows})
    assert all(isinstance(row[amount_col], (int, float)) for row in rows)
    total = detail[-1]
    assert total[0] == "合计"
    assert Decimal(str(total[amount_col])) == Decimal("1128.00")
    assert total[days_col] == 93
    assert sheets["按镇汇总"][-1][0] == "合计"
    assert Decimal(str(sheets["按镇汇总"][-1][3])) == Decimal("1128.00")
    provider_total = sheets["按机构汇总"][-1]
    assert provider_total[0] == "合计" and Decimal(str(provider_total[-1])) == Decimal("1118.00")
    payments = sheets["支付清单"]
    assert Decimal(str(payments[-1][-1])) == Decimal("1118.00")
    assert len(payments) == 4


def test_formula_like_text_is_escaped(two_provider_month, tmp_path):
    settlement, ours, _ = two_provider_month
    type(ours[0]).objects.filter(pk=ours[0].pk).update(name='=HYPERLINK("http://x")')
    out = tmp_path / "m.xlsx"

    call_command("export_settlement", "--month", "2024-03", "--out", str(out))

    names = [row[1] for row in _sheets(out.read_bytes())["结算明细"][1:-1]]
    assert '\'=HYPERLINK("http://x")' in names
    for text in ("=1+1", "+1", "-1", "@SUM(A1)"):
        assert safe_text(text) == "'" + text
    assert safe_text("张三") == "张三"


def test_the_portal_export_is_the_same_workbook_as_the_command(
    client_as, bureau_user, two_provider_month, exported, tmp_path
):
    settlement, _, _ = two_provider_month
    out = tmp_path / "march.xlsx"
    call_command("export_settlement", "--month", "2024-03", "--out", str(out))

    download = exported(client_as(bureau_user), reverse("billing:settlement_download", args=[settlement.pk]))

    assert _sheets(download.content) == _sheets(out.read_bytes())
    assert download.response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert quote("2024年03月结算.xlsx") in download.response["Content-Disposition"]
    assert progress_of(download.job) == (3 + 4, 3 + 4)  # each detail line, then each of the other sheets
    event = SecurityEvent.objects.get(kind="export", user=bureau_user)
    summary = event.detail["summary"]
    assert (event.detail["what"], summary["month"], summary["sheet"]) == ("结算表", "2024-03", "all")


def test_starting_the_export_queues_one_job_and_shows_its_result_page(client_as, finance_user, two_provider_month):
    settlement, _, _ = two_provider_month
    client = client_as(finance_user)

    response = client.post(reverse("billing:settlement_download_sheet", args=[settlement.pk, "payments"]))

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:export_detail", args=[job.pk])
    assert (job.kind, job.params, job.file_name) == (
        "billing.settlement", {"settlement": settlement.pk, "sheet": "payments"}, "2024年03月支付清单.xlsx",
    )  # fmt: skip
    assert OutboxTask.objects.get().args == [job.pk]
    page = client.get(response.url).content.decode()
    assert "data-progress-url" in page and "排队中" in page
    assert client.get(reverse("billing:settlement_download", args=[settlement.pk])).status_code == 405


def test_provider_download_holds_only_its_own_rows(client_as, provider_user, two_provider_month, exported):
    settlement, ours, theirs = two_provider_month

    download = exported(client_as(provider_user), reverse("billing:settlement_download", args=[settlement.pk]))

    sheets = _sheets(download.content)
    names = {row[1] for row in sheets["结算明细"][1:-1]}
    assert names == {r.name for r in ours}
    assert theirs.name not in names
    assert [row[0] for row in sheets["按机构汇总"][1:-1]] == ["莘县康乐养老服务中心"]
    assert len(sheets["支付清单"]) == 3  # header, own payment, 合计


def test_finance_downloads_one_sheet(client_as, finance_user, two_provider_month, exported):
    settlement, _, _ = two_provider_month

    download = exported(
        client_as(finance_user), reverse("billing:settlement_download_sheet", args=[settlement.pk, "payments"])
    )

    sheets = _sheets(download.content)
    assert list(sheets) == ["支付清单"]
    assert sheets["支付清单"][0][0] == "序号"


def test_town_cannot_download(client_as, other_town_user, two_provider_month):
    settlement, _, _ = two_provider_month
    url = reverse("billing:settlement_download", args=[settlement.pk])
    client = client_as(other_town_user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert not ExportJob.objects.exists()


def test_other_provider_download_holds_only_its_own_rows(client_as, other_provider_user, two_provider_month, exported):
    settlement, ours, theirs = two_provider_month

    download = exported(client_as(other_provider_user), reverse("billing:settlement_download", args=[settlement.pk]))

    detail = _sheets(download.content)["结算明细"]
    assert [row[1] for row in detail[1:-1]] == [theirs.name]
    assert Decimal(str(detail[-1][-1])) == Decimal("313.00")


def test_one_provider_cannot_fetch_the_others_file(client_as, provider_user, other_provider_user, two_provider_month,
                                                   exported):  # fmt: skip
    settlement, _, _ = two_provider_month
    theirs = exported(client_as(other_provider_user), reverse("billing:settlement_download", args=[settlement.pk]))

    client = client_as(provider_user)
    assert client.get(reverse("portal:export_detail", args=[theirs.job.pk])).status_code == 404
    assert client.get(reverse("portal:export_download", args=[theirs.job.pk])).status_code == 404


def test_detail_header_is_chinese():
    assert DETAIL_HEADER[1:3] == ("姓名", "身份证号")
