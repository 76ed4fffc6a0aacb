"""Every write to visits (see the modules): each action in one transaction, verification re-run where it matters."""

from ._common import MAX_ACCURACY_M
from .cards import confirmation_card_issue, confirmation_card_revoke, confirmation_code_use
from .plans import EXCEPTION_LOOKBACK_DAYS, plan_set_month, visit_flag_overdue
from .review import (
    APPROVAL_FIELDS,
    FREE_FIELDS,
    gps_rule_decide,
    gps_rule_request,
    visit_correct,
    visit_correction_decide,
    visit_review,
    visit_review_batch,
)
from .visits import (
    SYNC_MAX_ITEMS,
    check_image,
    visit_check_in,
    visit_check_out,
    visit_check_out_with_photos,
    visit_confirm,
    visit_log_emergency,
    visit_photo_add,
    visit_sync,
)

__all__ = [
    "APPROVAL_FIELDS",
    "EXCEPTION_LOOKBACK_DAYS",
    "FREE_FIELDS",
    "MAX_ACCURACY_M",
    "SYNC_MAX_ITEMS",
    "check_image",
    "confirmation_card_issue",
    "confirmation_card_revoke",
    "confirmation_code_use",
    "gps_rule_decide",
    "gps_rule_request",
    "plan_set_month",
    "visit_check_in",
    "visit_check_out",
    "visit_check_out_with_photos",
    "visit_confirm",
    "visit_correct",
    "visit_correction_decide",
    "visit_flag_overdue",
    "visit_log_emergency",
    "visit_photo_add",
    "visit_review",
    "visit_review_batch",
    "visit_sync",
]
