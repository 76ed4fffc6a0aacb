"""Every non-trivial read of the supervision app, scoped with `.for_actor(actor)`."""

from .evaluations import (
    current_sheet,
    evaluation_get_for_actor,
    evaluation_list,
    evaluation_missing,
    missing_by_town,
    notification_list,
    providers_serving_town,
    serving_pairs,
    sheet_in_use,
)
from .oversight import (
    complaint_get_for_actor,
    complaint_list,
    rectification_get_for_actor,
    rectification_list,
    redraw,
    serious_problem_get_for_actor,
    serious_problem_list,
    spot_check_draw_get_for_actor,
    spot_check_draw_list,
    spot_check_list,
)
from .reviews import review_get_for_actor, review_list, scorecard

__all__ = [
    "review_get_for_actor",
    "review_list",
    "scorecard",
    "complaint_get_for_actor",
    "complaint_list",
    "current_sheet",
    "evaluation_get_for_actor",
    "evaluation_list",
    "evaluation_missing",
    "missing_by_town",
    "notification_list",
    "providers_serving_town",
    "rectification_get_for_actor",
    "rectification_list",
    "redraw",
    "serious_problem_get_for_actor",
    "serious_problem_list",
    "serving_pairs",
    "sheet_in_use",
    "spot_check_draw_get_for_actor",
    "spot_check_draw_list",
    "spot_check_list",
]
