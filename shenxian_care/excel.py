"""Excel helpers shared by every import and export: how a cell is read, and one rule for text a
spreadsheet would run as a formula."""

import datetime
import re

from django.utils import timezone

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text cells never start a formula (CSV/formula injection, e.g. =HYPERLINK(...)): prefix a quote, as
    OWASP advises. Numbers stay numbers; only strings are touched."""
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value
    return value


def safe_row(values):
    return [safe_text(v) for v in values]


def cell_text(value) -> str:
    """A cell as people meant it: None is empty, 371522.0 (a number typed into a text column) is 371522."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_DATE_FORMS = (re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"), re.compile(r"(\d{4})(\d{2})(\d{2})"))


def cell_date(value):
    """A date cell, or a date typed as 2026-10-05, 2026/10/5, 2026年10月5日 or 20261005. None when empty;
    ValueError when it is not a date."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    raise ValueError(text)


# --- Workbooks a clerk can print and file --------------------------------------------------------------------------
# Every workbook the portal produces is written through `PrintableSheet`: a title row (what, unit, month, 制表日期),
# a frozen header repeated on each printed page, column widths that fit, money as numbers shown #,##0.00, ID and
# account numbers as text, a bold 合计 row, and the sign-off lines where a paper copy is signed. Every text cell goes
# through `safe_text`, so none runs as a formula.

MONEY = "#,##0.00"
INTEGER = "#,##0"
PERCENT = "0.0%"
TEXT = "@"
_FORMATS = {"money": MONEY, "int": INTEGER, "percent": PERCENT, "id": TEXT, "text": TEXT}
# A rough width per kind, in characters (a Chinese character counts two), when the column names none.
_WIDTHS = {"money": 14, "int": 10, "percent": 9, "id": 22, "text": 14}
SIGN_OFF = ("制表人", "审核人", "负责人")


class Column:
    """One column: its header, what it holds (`kind`: text, id, int, money, percent) and, if need be, a width."""

    def __init__(self, title, kind="text", width=None):
        if kind not in _FORMATS:
            raise ValueError(f"unknown column kind {kind!r}")
        self.title, self.kind = title, kind
        self.width = width or max(_WIDTHS[kind], display_width(title) + 2)
        self.number_format = _FORMATS[kind]


def display_width(text) -> int:
    """Characters as a spreadsheet shows them: a Chinese (full-width) character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def unit_of(actor) -> str:
    """The unit a table is made by, for its title row: the bureau, the finance bureau, a town or a provider."""
    from .models import Role
    from .scoping import actor_role

    role = actor_role(actor)
    if role == Role.TOWN and actor.town_id:
        return f"{actor.town}"
    if role == Role.PROVIDER and actor.provider_id:
        return f"{actor.provider}"
    if role == Role.FINANCE:
        return "莘县财政局"
    return "莘县民政局"


class PrintableSheet:
    """A write-only worksheet laid out for printing and filing (see the note above).

    columns = [Column("姓名"), Column("身份证号", "id"), Column("金额(元)", "money")]
    sheet = PrintableSheet(workbook, "结算明细", title="…结算明细", columns=columns, unit="莘县民政局", month=month)
    sheet.row([...]); sheet.total([...]); sheet.sign_off()

    `titled=False` leaves out the title rows (a form that comes back to an import, whose header must be row 1).
    """

    def __init__(self, workbook, name, *, title, columns, unit, month=None, made_on=None, titled=True):
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws = workbook.create_sheet(name[:31])
        self.columns = list(columns)
        self._bold = Font(bold=True)
        self._fill = PatternFill("solid", fgColor="DDE4EE")
        self._center = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for index, column in enumerate(self.columns, start=1):
            dimension = self.ws.column_dimensions[_letter(index)]
            dimension.width = column.width
            if column.kind == "id":
                # The whole column is text, so an ID or account number typed into the file stays as typed.
                dimension.number_format = TEXT
        # Write-only: the sheet's view and page setup are written with the first row, so they come first.
        header_row = 3 if titled else 1
        self.ws.freeze_panes = f"A{header_row + 1}"
        self.ws.print_title_rows = f"{header_row}:{header_row}"
        self.ws.page_setup.orientation = "landscape" if len(self.columns) > 6 else "portrait"
        self.ws.page_setup.paperSize = "9"  # A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        if titled:
            made_on = made_on or timezone.localdate()
            parts = [f"编制单位：{unit}"]
            if month is not None:
                parts.append(f"月份：{month:%Y年%m月}")
            parts.append(f"制表日期：{made_on:%Y年%m月%d日}")
            self._cells([title], font=Font(bold=True, size=14))
            self._cells(["　　".join(parts)])
        self.header_row = header_row
        self._cells([c.title for c in self.columns], font=self._bold, fill=self._fill, alignment=self._center)

    def _cells(self, values, *, font=None, fill=None, alignment=None, formats=None):
        from openpyxl.cell import WriteOnlyCell

        row = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(self.ws, value=safe_text(value))
            if formats is not None and index < len(formats) and formats[index]:
                cell.number_format = formats[index]
            if font is not None:
                cell.font = font
            if fill is not None:
                cell.fill = fill
            if alignment is not None:
                cell.alignment = alignment
            row.append(cell)
        self.ws.append(row)

    def _typed(self, values):
        """Each value as its column holds it: ID and account numbers as text (never 3.71522E+17), figures as numbers."""
        typed = []
        for column, value in zip(self.columns, values, strict=False):
            if column.kind == "id" and value is not None and not isinstance(value, str):
                value = str(value)
            typed.append(value)
        return typed + list(values[len(self.columns) :])

    def row(self, values, *, bold=False):
        self._cells(
            self._typed(list(values)),
            font=self._bold if bold else None,
            formats=[c.number_format for c in self.columns],
        )

    def total(self, values):
        """The 合计 row (bold); the first cell says 合计 when left empty."""
        values = list(values)
        if values and values[0] in (None, ""):
            values[0] = "合计"
        self.row(values, bold=True)

    def sign_off(self, roles=SIGN_OFF):
        """The signature lines of a paper copy, under the table."""
        self.ws.append([])
        self._cells(["　　　　".join(f"{role}：__________" for role in roles)])


def _letter(index):
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def workbook_bytes(workbook) -> bytes:
    import io

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def new_workbook():
    from openpyxl import Workbook

    return Workbook(write_only=True)
