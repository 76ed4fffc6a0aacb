"""Reading the month's roster (名单) exported from the provincial social-assistance system.

`parse_roster` reads the workbook and checks every row; it returns clean rows or raises ApplicationError
with every problem found, row by row and column by column, in Chinese. It writes nothing.
"""

import datetime
import hashlib
import io
import zipfile

from django.core.exceptions import ValidationError
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from shenxian_care.excel import Column, PrintableSheet, cell_date, cell_text, new_workbook, workbook_bytes
from shenxian_care.exceptions import ApplicationError
from shenxian_care.months import month_bounds
from shenxian_care.validators import parse_id_number, validate_phone, validate_plausible_date

from .models import CareLevel, Recipient, RosterEntry, Town, Village

COLUMNS = [
    "姓名",
    "身份证号",
    "镇(街道)",
    "村(居)",
    "自理能力",
    "纳入日期",
    "退出日期",
    "监护人",
    "监护人身份证号",
    "联系电话",
    "住址",
]
REQUIRED = {"姓名", "身份证号", "镇(街道)", "村(居)", "自理能力", "纳入日期"}
LEVELS = {label: value for value, label in CareLevel.choices}
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000


def _model_field(model, name):
    return model._meta.get_field(name)


# Where each value of a clean row is stored when the roster is applied: (column, model field). Every value is
# checked against its field (length, choices, validators) here, so a roster that passes the check cannot fail
# in the database when it is applied.
STORED_AS = {
    "name": ("姓名", _model_field(Recipient, "name")),
    "village": ("村(居)", _model_field(Village, "name")),
    "level": ("自理能力", _model_field(RosterEntry, "level")),
    "entry_date": ("纳入日期", _model_field(Recipient, "entry_date")),
    "exit_date": ("退出日期", _model_field(RosterEntry, "exit_date")),
    "guardian_name": ("监护人", _model_field(Recipient, "guardian_name")),
    "guardian_id_number": ("监护人身份证号", _model_field(Recipient, "guardian_id_number")),
    "phone": ("联系电话", _model_field(Recipient, "phone")),
    "address": ("住址", _model_field(Recipient, "address")),
}


def _field_errors(values):
    """(column, message) for each value that its model field would refuse. Fields that may be blank in the
    model but not in the file (name, village) are checked for emptiness before."""
    for key, (column, field) in STORED_AS.items():
        value = values.get(key)
        if value in (None, "") and (field.blank or field.null):
            continue
        try:
            field.clean(value, None)
        except ValidationError as exc:
            for error in exc.error_list:
                if error.code == "max_length":
                    yield column, f"{column}过长（最多{field.max_length}个字，现有{len(str(value))}个字）。"
                else:
                    yield column, next(iter(ValidationError(error).messages))


def _header_key(value):
    # People type the brackets either way: 镇（街道） and 镇(街道) are the same column.
    text = str(value or "").strip().replace("（", "(").replace("）", ")").replace(" ", "")
    return text


TEMPLATE_KINDS = {"身份证号": "id", "监护人身份证号": "id", "联系电话": "id"}
TEMPLATE_WIDTHS = {"姓名": 10, "自理能力": 10, "纳入日期": 12, "退出日期": 12, "住址": 30}


def template_workbook_bytes():
    """An empty roster with the Chinese headers, for the bureau to download and fill. Its header is row 1 (the file
    comes back through `parse_roster`, as the provincial export does); the ID and phone columns are text, so a typed
    18-digit ID number stays as typed instead of turning into 3.71522E+17."""
    workbook = new_workbook()
    columns = [Column(title, TEMPLATE_KINDS.get(title, "text"), TEMPLATE_WIDTHS.get(title)) for title in COLUMNS]
    sheet = PrintableSheet(workbook, "月度名单", title="月度名单", columns=columns, unit="", titled=False)
    sheet.row(
        [
            "张三",
            "371522195003070011",
            "燕塔街道",
            "东关村",
            "半失能",
            "2024-01-01",
            None,
            None,
            None,
            "13800000000",
            "燕塔街道东关村18号",
        ]
    )
    return workbook_bytes(workbook)


def _plausible(day, column, err):
    try:
        validate_plausible_date(day)
    except ValidationError as exc:
        err(column, f"{column}：{exc.messages[0]}")


def parse_roster(content: bytes, *, month: datetime.date, progress=None):
    """Check the whole file. Returns (rows, sha256). Raises ApplicationError(extra={"errors": [...]}).

    `progress`, if given, is told the number of rows (`start(n)`) and each row checked (`tick()`).
    """
    if not content:
        raise ApplicationError("上传的文件是空的。")
    if len(content) > MAX_BYTES:
        raise ApplicationError(f"文件过大（超过{MAX_BYTES // 1024 // 1024}MB），请检查是否选错了文件。")
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ApplicationError("无法读取文件：请上传从省救助系统导出的 .xlsx 格式Excel文件。") from None
    try:
        ws = wb.worksheets[0]
        rows_iter = ws.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None:
            raise ApplicationError("文件中没有内容。")
        keys = [_header_key(h) for h in header]
        missing = [c for c in COLUMNS if c in REQUIRED and c not in keys]
        if missing:
            raise ApplicationError(
                f"表头缺少必填列：{'、'.join(missing)}。请使用平台提供的名单模板。", extra={"errors": []}
            )
        index = {c: keys.index(c) for c in COLUMNS if c in keys}
        if progress is not None:
            progress.start(max((ws.max_row or 1) - 1, 0))
        towns = {t.name: t for t in Town.objects.all()}
        start, next_start, _ = month_bounds(month)
        errors, rows, seen = [], [], {}
        for line_no, raw in enumerate(rows_iter, start=2):
            if progress is not None:
                progress.tick()
            if raw is None or all(v in (None, "") for v in raw):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise ApplicationError(f"名单超过{MAX_ROWS}行，请分文件导入。")

            def cell(column, raw=raw):
                i = index.get(column)
                return raw[i] if i is not None and i < len(raw) else None

            row_errors = []

            def err(column, message, line_no=line_no, row_errors=row_errors):
                row_errors.append({"row": line_no, "column": column, "message": message})

            name = cell_text(cell("姓名"))
            if not name:
                err("姓名", "姓名不能为空。")
            id_number = None
            try:
                id_number, birth_date, sex = parse_id_number(cell_text(cell("身份证号")))
            except ValidationError as exc:
                err("身份证号", exc.messages[0])
            if id_number and id_number in seen:
                err("身份证号", f"与第{seen[id_number]}行身份证号重复。")
            elif id_number:
                seen[id_number] = line_no
            town_name = cell_text(cell("镇(街道)"))
            town = towns.get(town_name)
            if town is None and town_name:
                err("镇(街道)", f"未知的镇（街道）“{town_name}”，应为莘县24个镇（街道）之一。")
            elif town is None:
                err("镇(街道)", "镇（街道）不能为空。")
            village = cell_text(cell("村(居)"))
            if not village:
                err("村(居)", "村（居）不能为空。")
            level_text = cell_text(cell("自理能力"))
            level = LEVELS.get(level_text)
            if level is None:
                err("自理能力", f"自理能力“{level_text}”无法识别，应为：自理、半失能、失能。")
            entry = exit_ = None
            try:
                entry = cell_date(cell("纳入日期"))
                if entry is None:
                    err("纳入日期", "纳入日期不能为空。")
                elif entry >= next_start:
                    err("纳入日期", f"纳入日期{entry}晚于名单月份{month:%Y年%m月}。")
                else:
                    _plausible(entry, "纳入日期", err)
            except ValueError:
                err("纳入日期", f"纳入日期“{cell_text(cell('纳入日期'))}”不是有效日期（例：2024-01-01）。")
            try:
                exit_ = cell_date(cell("退出日期"))
                if exit_ and entry and exit_ < entry:
                    err("退出日期", "退出日期不能早于纳入日期。")
                elif exit_:
                    _plausible(exit_, "退出日期", err)
            except ValueError:
                err("退出日期", f"退出日期“{cell_text(cell('退出日期'))}”不是有效日期（例：2024-01-31）。")
            guardian = cell_text(cell("监护人"))
            guardian_id = ""
            if cell_text(cell("监护人身份证号")):
                try:
                    guardian_id = parse_id_number(cell_text(cell("监护人身份证号")))[0]
                except ValidationError as exc:
                    err("监护人身份证号", exc.messages[0])
                if not guardian:
                    err("监护人", "填写了监护人身份证号，但缺少监护人姓名。")
            phone = cell_text(cell("联系电话"))
            try:
                validate_phone(phone)
            except ValidationError as exc:
                err("联系电话", exc.messages[0])
            address = cell_text(cell("住址"))
            stored = {
                "name": name,
                "village": village,
                "level": level,
                "entry_date": entry,
                "exit_date": exit_,
                "guardian_name": guardian,
                "guardian_id_number": guardian_id,
                "phone": phone,
                "address": address,
            }
            already = {e["column"] for e in row_errors}
            for column, message in _field_errors(stored):
                if column not in already:
                    err(column, message)

            if row_errors:
                errors.extend(row_errors)
                continue
            rows.append(
                {
                    "row": line_no,
                    "name": name,
                    "id_number": id_number,
                    "birth_date": birth_date.isoformat(),
                    "sex": sex,
                    "town_id": town.pk,
                    "town": town.name,
                    "village": village,
                    "level": level,
                    "entry_date": entry.isoformat(),
                    "exit_date": exit_.isoformat() if exit_ else None,
                    "guardian_name": guardian,
                    "guardian_id_number": guardian_id,
                    "phone": phone,
                    "address": address,
                }
            )
    finally:
        wb.close()
    if errors:
        raise ApplicationError(
            f"名单中有{len(errors)}处错误，未导入任何数据。请按行号修改后重新上传。", extra={"errors": errors}
        )
    if not rows:
        raise ApplicationError("名单中没有数据行。")
    return rows, hashlib.sha256(content).hexdigest()
