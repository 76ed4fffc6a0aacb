"""Portal pages of the services app. Thin: read through selectors, write through actions."""

from .cards import card_issue, card_list, card_revoke
from .caregiver import (
    caregiver_check_in,
    caregiver_check_out,
    caregiver_confirm,
    caregiver_day,
    caregiver_emergency,
    service_worker,
)
from .monitoring import (
    compliance_export,
    compliance_report,
    correction_queue,
    dashboard,
    dashboard_json,
    exception_queue,
    gps_rules,
    plan,
    visit_detail,
    visit_photo,
)

__all__ = [
    "card_issue",
    "card_list",
    "card_revoke",
    "caregiver_check_in",
    "caregiver_check_out",
    "caregiver_confirm",
    "caregiver_day",
    "caregiver_emergency",
    "compliance_export",
    "compliance_report",
    "correction_queue",
    "dashboard",
    "dashboard_json",
    "exception_queue",
    "gps_rules",
    "plan",
    "service_worker",
    "visit_detail",
    "visit_photo",
]
