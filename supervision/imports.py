"""Reading the list of deaths and cancelled household registrations (Excel from the police or the funeral
authorities). `parse_crosscheck` checks every row and returns clean rows, or raises ApplicationError with
every problem found, row by row, in Chinese. It writes nothing."""

import hashlib
import io
import zipfile

from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from shenxian_care.excel import cell_date, cell_text
from shenxian_care.exceptions import ApplicationError
from shenxian_care.validators import parse_id_number

from .models import CrossCheckEvent

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# Header spellings seen in the source lists → our column.
HEADERS = {
    "姓名": "name",
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "身份证号码": "id_number",
    "情形": "event",
    "类型": "event",
    "事由": "event",
    "日期": "event_date",
    "死亡日期": "event_date",
    "注销日期": "event_date",
    "死亡/注销日期": "event_date",
}
REQUIRED = ("id_number", "event", "event_date")
LABELS = {"id_number": "身份证号", "event": "情形（死亡/户籍注销）", "event_date": "日期"}
EVENTS = {
    "死亡": CrossCheckEvent.DEATH,
    "户籍注销": CrossCheckEvent.CANCELLED,
    "注销": CrossCheckEvent.CANCELLED,
    "注销户籍": CrossCheckEvent.CANCELLED,
    "户口注销": CrossCheckEvent.CANCELLED,
}


def file_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def parse_crosscheck(content: bytes):
    """[{row, name, id_number (normalised), event, event_date}] or ApplicationError listing every bad row."""
    if len(content) > MAX_BYTES:
        raise ApplicationError("文件超过10MB，请拆分后导入。", field="file")
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ApplicationError("无法读取该文件，请上传Excel（.xlsx）文件。", field="file") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        columns = {}
        for index, title in enumerate(header or ()):
            key = HEADERS.get(cell_text(title).replace(" ", ""))
            if key and key not in columns:
                columns[key] = index
        missing = [LABELS[key] for key in REQUIRED if key not in columns]
        if missing:
            raise ApplicationError(f"表头缺少列：{'、'.join(missing)}。第一行应为列名。", field="file")
        clean, errors, seen = [], [], {}
        for number, row in enumerate(rows, start=2):
            if number - 1 > MAX_ROWS:
                raise ApplicationError(f"名单超过{MAX_ROWS}行，请拆分后导入。", field="file")
            values = {key: (row[i] if i < len(row) else None) for key, i in columns.items()}
            if all(cell_text(v) == "" for v in values.values()):
                continue
            row_errors = []
            id_number = ""
            try:
                id_number = parse_id_number(cell_text(values["id_number"]))[0]
            except ValidationError as exc:
                row_errors.append(f"第{number}行“身份证号”：{exc.messages[0]}")
            event = EVENTS.get(cell_text(values["event"]).replace(" ", ""))
            if event is None:
                row_errors.append(
                    f"第{number}行“情形”：应为“死亡”或“户籍注销”（当前为“{cell_text(values['event'])}”）。"
                )
            event_date = None
            try:
                event_date = cell_date(values["event_date"])
                if event_date is None:
                    raise ValueError("empty")
            except ValueError:
                row_errors.append(
                    f"第{number}行“日期”：无法识别“{cell_text(values['event_date'])}”，请写成2026-10-05。"
                )
            if event_date and event_date > timezone.localdate():
                row_errors.append(f"第{number}行“日期”：不能晚于今天。")
            if id_number and id_number in seen:
                row_errors.append(f"第{number}行“身份证号”：与第{seen[id_number]}行重复。")
            if row_errors:
                errors.extend(row_errors)
                continue
            seen[id_number] = number
            clean.append(
                {
                    "row": number,
                    "name": cell_text(values.get("name"))[:32],
                    "id_number": id_number,
                    "event": event,
                    "event_date": event_date,
                }
            )
    finally:
        workbook.close()
    if errors:
        raise ApplicationError(
            f"名单有{len(errors)}处错误，未导入任何数据，请修改后重新导入。", field="file", extra={"errors": errors}
        )
    if not clean:
        raise ApplicationError("名单中没有数据行。", field="file")
    return clean
