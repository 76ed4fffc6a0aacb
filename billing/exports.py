"""Excel for the finance bureau (openpyxl write-only, streamed): detail per recipient, summary by town,
summary by provider, payment list. Chinese headers, numbers as numbers, a 合计 row at the bottom.

Every sheet goes through the same scoped selectors as the pages, so a provider's download holds only
its own rows. ID numbers come from the masked copy beside the ciphertext. Text that a spreadsheet would
read as a formula is escaped.
"""

from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook

from contracts.models import PayeeMode
from recipients.models import CareLevel
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
DETAIL_HEADER = (
    "序号",
    "姓名",
    "身份证号",
    "镇(街道)",
    "服务机构",
    "照料护理人",
    "类型",
    "所属月份",
    "自理能力",
    "自理天数",
    "半失能天数",
    "失能天数",
    "天数",
    "标准(元/月)",
    "金额(元)",
)
_LEVELS = dict(CareLevel.choices)
_KINDS = dict(LineKind.choices)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text cells never start a formula (CSV/formula injection): prefix a quote as OWASP advises."""
    if value and value[0] in _FORMULA_START:
        return "'" + value
    return value


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
    ws.append(DETAIL_HEADER)
    days_total, amount_total = 0, Decimal("0.00")
    held = _KINDS[LineKind.HELD]
    for row in rows:
        ws.append(row)
        if row[6] != held:  # 待处理追溯 lines are listed, not paid: the total is the month's money
            days_total += row[12]
            amount_total += row[14]
    ws.append(("合计", *([None] * 11), days_total, None, amount_total))


def write_town(ws, *, actor, settlement):
    ws.append(("镇(街道)", "人数", "天数", "金额(元)"))
    people = days = 0
    amount = Decimal("0.00")
    for row in selectors.town_totals(actor=actor, settlement=settlement):
        ws.append((safe_text(row["town__name"]), row["recipients"], row["days"], row["amount"]))
        people += row["recipients"]
        days += row["days"]
        amount += row["amount"]
    ws.append(("合计", people, days, amount))


def write_provider(ws, *, actor, settlement):
    ws.append(
        (
            "服务机构",
            "统一社会信用代码",
            "资金结算方式",
            "人数",
            "天数",
            "应付金额(元)",
            "上月待抵减(元)",
            "本月扣款(元)",
            "结转下月扣款(元)",
            "实付金额(元)",
        )
    )
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
        ws.append((safe_text(row.provider.name), row.provider.credit_code, row.get_payee_mode_display(), *values))
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    ws.append(("合计", None, None, *sums))


def write_payments(ws, *, actor, settlement):
    ws.append(("序号", "服务机构", "收款方类型", "收款人", "开户银行", "银行账号", "服务人天", "金额(元)"))
    kinds = dict(PayeeKind.choices)
    total = Decimal("0.00")
    days = 0
    for number, p in enumerate(selectors.payment_list(actor=actor, settlement=settlement), start=1):
        ws.append(
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
    ws.append(("合计", None, None, None, None, None, days, total))


def write_approval(ws, *, actor, settlement, today=None):
    """拨付审批表: one block per provider, the net amount in figures and in capitals (大写), with the lines the
    bureau and the finance bureau sign on paper."""
    today = today or timezone.localdate()
    modes = dict(PayeeMode.choices)
    for row in selectors.provider_totals(actor=actor, settlement=settlement):
        payees = row.payments.count()
        ws.append(("莘县分散供养特困人员照料护理服务费拨付审批表",))
        ws.append((f"结算月份：{settlement.month:%Y年%m月}", None, f"制表日期：{today:%Y年%m月%d日}"))
        ws.append(("服务机构", safe_text(row.provider.name), "统一社会信用代码", row.provider.credit_code))
        ws.append(
            (
                "购买服务合同",
                safe_text(row.contract.number if row.contract else ""),
                "资金结算方式",
                modes.get(row.payee_mode, row.payee_mode),
            )
        )
        ws.append(("服务人数", row.recipients, "服务人天", row.days))
        ws.append(("应付金额（元）", row.gross, "上月待抵减（元）", row.deficit_brought))
        ws.append(("本月扣款（元）", row.deductions_applied, "结转下月扣款（元）", row.carried_forward))
        ws.append(("拨付金额（小写，元）", row.net, "收款账户数", payees))
        ws.append(("拨付金额（大写）", chinese_capital(row.net)))
        ws.append(("县民政局经办人：", None, "审核人：", None, "负责人：", None))
        ws.append(("县财政局经办人：", None, "审核人：", None, "负责人：", None))
        ws.append(("（盖章）", None, None, None, "年　月　日"))
        ws.append(())


def build_workbook(*, actor, settlement, sheets=SHEETS, progress=None):
    """A write-only workbook with the requested sheets; save it to a path or a file object.

    `progress` (optional): told the number of steps (each detail row, then each other sheet) and each one done.
    """
    wb = Workbook(write_only=True)
    if progress is not None:
        lines = 0
        if "detail" in sheets:
            lines = SettlementLine.objects.for_actor(actor).filter(settlement=settlement).count()
        progress.start(lines + len([sheet for sheet in sheets if sheet != "detail"]))
    for sheet in sheets:
        ws = wb.create_sheet(SHEET_TITLES[sheet])
        if sheet == "detail":
            rows = detail_rows(actor=actor, settlement=settlement)
            write_detail(ws, rows if progress is None else _ticking(rows, progress))
            continue
        if sheet == "town":
            write_town(ws, actor=actor, settlement=settlement)
        elif sheet == "provider":
            write_provider(ws, actor=actor, settlement=settlement)
        elif sheet == "payments":
            write_payments(ws, actor=actor, settlement=settlement)
        elif sheet == "approval":
            write_approval(ws, actor=actor, settlement=settlement)
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
