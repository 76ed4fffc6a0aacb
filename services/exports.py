"""Excel export of the monthly compliance report (openpyxl write-only; Chinese headers; ID numbers masked)."""

import datetime

from django.utils import timezone

from shenxian_care.excel import Column, PrintableSheet, new_workbook, unit_of, workbook_bytes

from . import reports
from .reports import GROUPS, totals_of
from .selectors import judged_to_date


def _lead_columns(group):
    return {
        "recipient": [
            Column("镇（街道）"),
            Column("村（居）委会"),
            Column("服务对象", width=10),
            Column("身份证号", "id"),
            Column("自理能力等级", width=10),
            Column("服务机构", width=24),
            Column("照料护理人", width=10),
            Column("服务天数", "int"),
        ],
        "caregiver": [Column("照料护理人"), Column("服务机构", width=24), Column("服务对象人数", "int")],
        "provider": [Column("服务机构", width=28), Column("服务对象人数", "int")],
        "town": [Column("镇（街道）"), Column("服务对象人数", "int")],
    }[group]


def _figure_columns():
    return [
        Column("应上门次数", "int"),
        Column("实际上门次数", "int"),
        Column("应服务分钟", "int"),
        Column("实际服务分钟", "int"),
        Column("达标次数", "int"),
        Column("缺少次数", "int"),
        Column("达标率", "percent"),
    ]


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


def compliance_workbook(rows, *, month, group, unit="莘县民政局", judged_on=None) -> bytes:
    """`judged_on`: the day the figures were judged on, when the month had not ended (截至今日, in the title)."""
    workbook = new_workbook()
    to_date = f"（截至{judged_on:%Y年%m月%d日}）" if judged_on is not None else ""
    sheet = PrintableSheet(
        workbook,
        f"{month:%Y年%m月}{GROUPS[group]}",
        title=f"莘县特困人员上门服务达标月报（{GROUPS[group]}）{to_date}",
        columns=_lead_columns(group) + _figure_columns(),
        unit=unit,
        month=month,
    )
    for row in rows:
        sheet.row(_lead(row, group) + _figures(row))
    total = totals_of(rows)
    lead = [""] * len(_lead_columns(group))
    if group != "recipient":
        lead[-1] = total.recipients
    sheet.total(lead + _figures(total))
    sheet.sign_off()
    return workbook_bytes(workbook)


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
    today = timezone.localdate()
    rows = reports.compliance_rows(
        actor=actor, month=month, group=group, filters=params.get("filters") or {}, today=today
    )
    progress.start(len(rows))
    judged_on = today if judged_to_date(month, today) else None
    out.write(compliance_workbook(rows, month=month, group=group, unit=unit_of(actor), judged_on=judged_on))
    progress.finish()
    return {"month": f"{month:%Y-%m}", "group": group, "rows": len(rows)}
