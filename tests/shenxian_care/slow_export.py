"""An export that takes as long as a test needs (params: rows, delay seconds a row), so that a worker can be
killed while it builds. Imported by the test and, with `--include`, by the real worker the test starts."""

import time

from openpyxl import Workbook

from shenxian_care import exports

KIND = "tests.slow"


def build_slowly(*, actor, params, out, progress):
    rows = params["rows"]
    progress.start(rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("行")
    ws.append(("序号", "平方"))
    for i in range(rows):
        ws.append((i, i * i))
        progress.tick()
        time.sleep(params.get("delay", 0))
    wb.save(out)
    return {"rows": rows}


exports.register(KIND, title="测试慢导出", build=build_slowly)
