"""The desk (工作台): what waits for the signed-in person, as counts that link to the lists behind them.

Each app says what waits in its own `<app>/desk.py` (`items(*, actor, role, today) -> list[DeskItem]`), scoped
by the role, each count costing a fixed number of queries whatever the county's size. The portal's home page
gathers them in the apps' order, as the URL conf gathers their API routers, so this module imports no app.
"""

import datetime
from dataclasses import dataclass
from importlib import import_module

from django.utils import timezone

from .scoping import actor_role

DESK_APPS = ["recipients", "contracts", "services", "supervision", "billing"]


@dataclass(frozen=True)
class DeskItem:
    group: str  # the card it is shown in: 审定 / 协议 / 服务 / 监管 / 结算
    label: str
    count: int
    url: str
    urgent: bool = False  # shown in red when something waits (overdue, past a deadline)


def desk_items(*, actor, today: datetime.date | None = None) -> list[DeskItem]:
    role = actor_role(actor)
    if role is None:
        return []
    today = today or timezone.localdate()
    found = []
    for app in DESK_APPS:
        found.extend(import_module(f"{app}.desk").items(actor=actor, role=role, today=today))
    return found


def desk_groups(items):
    """[(group, [item, ...]), ...] in the order the groups first appear."""
    groups = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    return list(groups.items())
