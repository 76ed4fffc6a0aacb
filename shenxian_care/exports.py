"""Portal exports as background jobs (导出任务): the registry of what can be exported.

Each app registers its builders by kind in its AppConfig.ready(), so this module never imports the apps:

    register("billing.settlement", title="结算表", build=exports.build_export)

A builder is called in the background (`shenxian_care.actions.export_run`) as

    build(*, actor, params, out, progress) -> dict | None

- `actor` is the person who asked: the builder reads through the same scoped selectors as the pages, so the
  file holds what that person may see and nothing else;
- `params` are the JSON parameters the app's request view stored with the job;
- `out` is a binary file to write the workbook to (openpyxl: `wb.save(out)`);
- `progress` has `start(total)`, `tick(n=1)` and `finish()` (`shenxian_care.progress.SideProgress`);
- it raises ApplicationError (a Chinese message shown to the person) or Http404 for what it cannot export;
- it returns details for the audit record of each download (month, sheet, rows...).

The app's own view checks the request (role, the object is visible, the parameters), then calls
`shenxian_care.actions.export_request(...)` and redirects to the job's result page (`portal:export_detail`).
"""

from collections.abc import Callable
from dataclasses import dataclass

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportKind:
    kind: str
    title: str
    build: Callable
    content_type: str = XLSX


_REGISTRY: dict[str, ExportKind] = {}


def register(kind, *, title, build, content_type=XLSX):
    """Make `kind` exportable. Registering the same kind again replaces it (tests, reloads)."""
    _REGISTRY[kind] = ExportKind(kind=kind, title=title, build=build, content_type=content_type)


def get(kind) -> ExportKind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no export registered as {kind!r}") from None


def title_of(kind):
    spec = _REGISTRY.get(kind)
    return spec.title if spec is not None else kind


def content_type_of(kind):
    spec = _REGISTRY.get(kind)
    return spec.content_type if spec is not None else XLSX
