"""Reading back a workbook the portal produced (shenxian_care.excel.PrintableSheet): its title rows, header, body,
合计 row and sign-off, found through the frozen header."""

import io
from dataclasses import dataclass

from openpyxl import load_workbook


@dataclass
class Table:
    sheet: object  # the openpyxl worksheet, for formats
    titles: list  # the rows above the header (title; unit, month, 制表日期)
    header: tuple
    body: list
    total: tuple | None
    after: list  # rows under the table (the sign-off)
    header_row: int  # 1-based row number of the header


def read_table(content, sheet=None):
    workbook = load_workbook(io.BytesIO(content))
    ws = workbook[sheet] if sheet else workbook.worksheets[0]
    header_row = int(ws.freeze_panes[1:]) - 1
    rows = list(ws.iter_rows(values_only=True))
    titles, header, rest = rows[: header_row - 1], rows[header_row - 1], rows[header_row:]
    end = next((i for i, r in enumerate(rest) if r and r[0] == "合计"), None)
    if end is None:
        return Table(ws, titles, header, rest, None, [], header_row)
    return Table(ws, titles, header, rest[:end], rest[end], rest[end + 1 :], header_row)
