"""Excel for the finance bureau (openpyxl write-only, streamed): detail per recipient, summary by town,
summary by provider, payment list, each laid out for printing by shenxian_care.excel.PrintableSheet (title rows,
frozen header, money as #,##0.00, ID and account numbers as text, a 合计 row, sign-off lines).

Every sheet goes through the same scoped selectors as the pages, so a provider's download holds only
its own rows. ID numbers come from the masked copy beside the ciphertext. Text that a spreadsheet would
read as a formula is escaped.
"""

from decimal import Decimal

from contracts.models import PayeeMode
from recipients.models import CareLevel
from shenxian_care.excel import Column, PrintableSheet, new_workbook, safe_text, unit_of
from shenxian_care.money import chinese_capital

from . import selectors
from .models import LineKind, PayeeKind, SettlementLine

SHEETS = ("detail", "town", "provider", "payments", "approval")
SHEET_TITLES = {
    "detail": "结算明细",
    "town": "按镇汇总",
    "provider": "按机构汇总",
    "payments": "支付清单",
    "approval": "拨付审批表",
}
DETAIL_COLUMNS = (
    Column("序号", "int", width=7),
    Column("姓名", width=10),
    Column("身份证号", "id"),
    Column("镇(街道)", width=12),
    Column("服务机构", width=26),
    Column("照料护理人", width=10),
    Column("类型", width=14),
    Column("所属月份", width=10),
    Column("自理能力", width=9),
    Column("自理天数", "int"),
    Column("半失能天数", "int"),
    Column("失能天数", "int"),
    Column("天数", "int", width=7),
    Column("标准(元/月)", "money", width=12),
    Column("金额(元)", "money"),
)
DETAIL_HEADER = tuple(column.title for column in DETAIL_COLUMNS)
TOWN_COLUMNS = (Column("镇(街道)", width=14), Column("人数", "int"), Column("天数", "int"), Column("金额(元)", "money"))
PROVIDER_COLUMNS = (
    Column("服务机构", width=28),
    Column("统一社会信用代码", "id"),
    Column("资金结算方式", width=16),
    Column("人数", "int", width=8),
    Column("天数", "int", width=8),
    Column("应付金额(元)", "money"),
    Column("上月待抵减(元)", "money"),
    Column("本月扣款(元)", "money"),
    Column("结转下月扣款(元)", "money"),
    Column("实付金额(元)", "money"),
)
APPROVAL_COLUMNS = (
    Column("序号", "int", width=7),
    Column("服务机构", width=26),
    Column("统一社会信用代码", "id"),
    Column("合同编号", width=16),
    Column("资金结算方式", width=16),
    Column("服务人数", "int"),
    Column("服务人天", "int"),
    Column("应付金额(元)", "money"),
    Column("本月扣款(元)", "money"),
    Column("拨付金额(元)", "money"),
    Column("大写", width=30),
)
PAYMENT_COLUMNS = (
    Column("序号", "int", width=7),
    Column("服务机构", width=26),
    Column("收款方类型", width=10),
    Column("收款人", width=20),
    Column("开户银行", width=18),
    Column("银行账号", "id", width=24),
    Column("服务人天", "int"),
    Column("金额(元)", "money"),
)
SHEET_COLUMNS = {
    "detail": DETAIL_COLUMNS,
    "town": TOWN_COLUMNS,
    "provider": PROVIDER_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "approval": APPROVAL_COLUMNS,
}
_LEVELS = dict(CareLevel.choices)
_KINDS = dict(LineKind.choices)


def detail_rows(*, actor, settlement, chunk_size=5000):
    """Rows of the detail sheet, streamed from one query (memory does not grow with the month)."""
    rows = (
        SettlementLine.objects.for_actor(actor)
        .filter(settlement=settlement)
        .order_by("town__sort_order", "town_id", "recipient_id", "kind", "period_month", "provider_id")
        .values_list(
            "recipient__name",
            "recipient__id_number_masked",
            "town__name",
            "provider__name",
            "caregiver__name",
            "kind",
            "period_month",
            "level",
            "days_self_care",
            "days_partial",
            "days_full",
            "days",
            "rate",
            "amount",
        )
        .iterator(chunk_size=chunk_size)
    )
    for number, (
        name,
        masked_id,
        town,
        provider,
        caregiver,
        kind,
        period,
        level,
        d_sc,
        d_p,
        d_f,
        days,
        rate,
        amount,
    ) in enumerate(rows, start=1):
        yield (
            number,
            safe_text(name),
            masked_id,
            safe_text(town),
            safe_text(provider),
            safe_text(caregiver or ""),
            _KINDS[kind],
            f"{period:%Y-%m}",
            _LEVELS.get(level, level),
            d_sc,
            d_p,
            d_f,
            days,
            rate,
            amount,
        )


def write_detail(ws, rows):
    days_total, amount_total = 0, Decimal("0.00")
    held = _KINDS[LineKind.HELD]
    for row in rows:
        ws.row(row)
        if row[6] != held:  # 待处理追溯 lines are listed, not paid: the total is the month's money
            days_total += row[12]
            amount_total += row[14]
    ws.total(("合计", *([None] * 11), days_total, None, amount_total))


def write_town(ws, *, actor, settlement):
    people = days = 0
    amount = Decimal("0.00")
    for row in selectors.town_totals(actor=actor, settlement=settlement):
        ws.row((safe_text(row["town__name"]), row["recipients"], row["days"], row["amount"]))
        people += row["recipients"]
        days += row["days"]
        amount += row["amount"]
    ws.total(("合计", people, days, amount))


def write_provider(ws, *, actor, settlement):
    sums = [0, 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0)]
    for row in selectors.provider_totals(actor=actor, settlement=settlement):
        values = [
            row.recipients,
            row.days,
            row.gross,
            row.deficit_brought,
            row.deductions_applied,
            row.carried_forward,
            row.net,
        ]
        ws.row((safe_text(row.provider.name), row.provider.credit_code, row.get_payee_mode_display(), *values))
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    ws.total(("合计", None, None, *sums))


def write_payments(ws, *, actor, settlement):
    kinds = dict(PayeeKind.choices)
    total = Decimal("0.00")
    days = 0
    for number, p in enumerate(selectors.payment_list(actor=actor, settlement=settlement), start=1):
        ws.row(
            (
                number,
                safe_text(p.provider.name),
                kinds[p.payee_kind],
                safe_text(p.payee_name),
                safe_text(p.bank_name),
                p.account_number,
                p.days,
                p.amount,
            )
        )
        total += p.amount
        days += p.days
    ws.total(("合计", None, None, None, None, None, days, total))


def write_approval(ws, *, actor, settlement):
    """拨付审批表: one row per provider with the amount to pay in figures and in capitals (大写), the total likewise,
    and the lines the bureau and the finance bureau sign on paper."""
    modes = dict(PayeeMode.choices)
    total = Decimal("0.00")
    for number, row in enumerate(selectors.provider_totals(actor=actor, settlement=settlement), start=1):
        ws.row(
            (
                number,
                safe_text(row.provider.name),
                row.provider.credit_code,
                safe_text(row.contract.number if row.contract else ""),
                modes.get(row.payee_mode, row.payee_mode),
                row.recipients,
                row.days,
                row.gross,
                row.deductions_applied,
                row.net,
                chinese_capital(row.net),
            )
        )
        total += row.net
    ws.total(("合计", None, None, None, None, None, None, None, None, total, chinese_capital(total)))
    ws.sign_off(roles=("县民政局经办人", "审核人", "负责人"))
    ws.sign_off(roles=("县财政局经办人", "审核人", "负责人"))


def build_workbook(*, actor, settlement, sheets=SHEETS, progress=None):
    """A write-only workbook with the requested sheets; save it to a path or a file object.

    `progress` (optional): told the number of steps (each detail row, then each other sheet) and each one done.
    """
    wb = new_workbook()
    if progress is not None:
        lines = 0
        if "detail" in sheets:
            lines = SettlementLine.objects.for_actor(actor).filter(settlement=settlement).count()
        progress.start(lines + len([sheet for sheet in sheets if sheet != "detail"]))
    for sheet in sheets:
        ws = PrintableSheet(
            wb,
            SHEET_TITLES[sheet],
            title=f"莘县分散供养特困人员照料服务费{SHEET_TITLES[sheet]}",
            columns=SHEET_COLUMNS[sheet],
            unit=unit_of(actor),
            month=settlement.month,
        )
        if sheet == "detail":
            rows = detail_rows(actor=actor, settlement=settlement)
            write_detail(ws, rows if progress is None else _ticking(rows, progress))
            ws.sign_off()
            continue
        if sheet == "town":
            write_town(ws, actor=actor, settlement=settlement)
        elif sheet == "provider":
            write_provider(ws, actor=actor, settlement=settlement)
        elif sheet == "payments":
            write_payments(ws, actor=actor, settlement=settlement)
        elif sheet == "approval":
            write_approval(ws, actor=actor, settlement=settlement)
        ws.sign_off()
        if progress is not None:
            progress.tick()
    return wb


def _ticking(rows, progress):
    for row in rows:
        yield row
        progress.tick()


def file_name(settlement, sheet="all"):
    label = "结算" if sheet == "all" else SHEET_TITLES[sheet]
    return f"{settlement.month:%Y年%m月}{label}.xlsx"


# The portal's download runs in the background as an export job (shenxian_care.exports), registered in apps.py.
EXPORT_KIND = "billing.settlement"
EXPORT_TITLE = "结算表"


def export_params(settlement, sheet="all"):
    return {"settlement": settlement.pk, "sheet": sheet}


def build_export(*, actor, params, out, progress):
    """Builder of an export job: the month's workbook as `actor` may see it, with progress."""
    settlement = selectors.settlement_get_for_actor(actor=actor, pk=params["settlement"])
    sheet = params.get("sheet", "all")
    sheets = SHEETS if sheet == "all" else (sheet,)
    build_workbook(actor=actor, settlement=settlement, sheets=sheets, progress=progress).save(out)
    return {"month": f"{settlement.month:%Y-%m}", "sheet": sheet}
