"""Excel export of the monthly compliance report (openpyxl write-only; Chinese headers; ID numbers masked)."""

import datetime
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from . import reports
from .reports import GROUPS, totals_of

HEADERS = {
    "recipient": [
        "镇（街道）",
        "村（居）委会",
        "服务对象",
        "身份证号",
        "自理能力等级",
        "服务机构",
        "照料护理人",
        "服务天数",
    ],
    "caregiver": ["照料护理人", "服务机构", "服务对象人数"],
    "provider": ["服务机构", "服务对象人数"],
    "town": ["镇（街道）", "服务对象人数"],
}
COMMON = ["应上门次数", "实际上门次数", "应服务分钟", "实际服务分钟", "达标次数", "缺少次数", "达标率"]


def _lead(row, group):
    if group == "recipient":
        return [
            row.town,
            row.extra.get("village", ""),
            row.label,
            row.id_number_masked,
            row.level_label,
            row.provider,
            row.caregiver,
            row.days,
        ]
    if group == "caregiver":
        return [row.label, row.provider, row.recipients]
    return [row.label, row.recipients]


def _figures(row):
    return [
        row.required_visits,
        row.visits,
        row.required_minutes,
        row.minutes,
        row.met_visits,
        row.shortfall,
        float(row.compliance),
    ]


def compliance_workbook(rows, *, month, group) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=f"{month:%Y年%m月}{GROUPS[group]}"[:31])
    bold = Font(bold=True)
    title = WriteOnlyCell(sheet, value=f"莘县特困人员上门服务达标月报（{month:%Y年%m月}，{GROUPS[group]}）")
    title.font = bold
    sheet.append([title])
    header = []
    for text in HEADERS[group] + COMMON:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = _lead(row, group) + _figures(row)
        rate = WriteOnlyCell(sheet, value=cells[-1])
        rate.number_format = "0.0%"
        sheet.append(cells[:-1] + [rate])
    total = totals_of(rows)
    lead = ["合计"] + [""] * (len(HEADERS[group]) - 1)
    if group != "recipient":
        lead[-1] = total.recipients
    rate = WriteOnlyCell(sheet, value=float(total.compliance))
    rate.number_format = "0.0%"
    sheet.append(lead + _figures(total)[:-1] + [rate])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The portal's download runs in the background as an export job (shenxian_care.exports), registered in apps.py.
EXPORT_KIND = "services.compliance"
EXPORT_TITLE = "服务达标月报"


def file_name(month, group):
    """Chinese only, as a clerk files it: 2026年11月服务达标月报_按镇（街道）.xlsx."""
    return f"{month:%Y年%m月}服务达标月报_{GROUPS[group]}.xlsx"


def export_params(*, month, group, filters):
    return {"month": f"{month:%Y-%m-%d}", "group": group, "filters": filters}


def build_export(*, actor, params, out, progress):
    """Builder of an export job: the month's report as `actor` may see it."""
    month = datetime.date.fromisoformat(params["month"])
    group = params["group"]
    rows = reports.compliance_rows(actor=actor, month=month, group=group, filters=params.get("filters") or {})
    progress.start(len(rows))
    out.write(compliance_workbook(rows, month=month, group=group))
    progress.finish()
    return {"month": f"{month:%Y-%m}", "group": group, "rows": len(rows)}
