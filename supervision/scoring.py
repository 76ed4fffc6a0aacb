"""The evaluation sheet's arithmetic and its rules for one item's score (pure: no database)."""

from decimal import Decimal

from shenxian_care.exceptions import ApplicationError

HUNDRED = Decimal("100")
CENT = Decimal("0.01")


def weight_total(items) -> Decimal:
    return sum((item.weight for item in items), Decimal(0))


def ensure_weights_add_up(items):
    """A sheet in use must have item weights that add up to 100, so the total is the plain sum of the items."""
    total = weight_total(items)
    if total != HUNDRED:
        raise ApplicationError(f"各考评项目的权重合计应为100，现为{total.normalize():f}。", field="weight")


def item_points(item, score, total_weight=HUNDRED) -> Decimal:
    """What one item adds to the 百分制 total: weight × score ÷ max, rounded half-up to 0.01 (the score itself when
    the item's maximum is its weight). A sheet whose weights do not add up to 100 (one published before the rule)
    is scaled to 100."""
    points = item.weight * Decimal(score) / item.max_score
    if total_weight != HUNDRED and total_weight:
        points = points * HUNDRED / total_weight
    return points.quantize(CENT, rounding="ROUND_HALF_UP")


def weighted_total(items_with_scores) -> Decimal:
    """The 百分制 total: the sum of the items' points, as the sheet shows them row by row."""
    pairs = list(items_with_scores)
    total_weight = weight_total(item for item, _ in pairs)
    return sum((item_points(item, score, total_weight) for item, score in pairs), Decimal("0.00"))


def check_item_score(item, score, note) -> Decimal | None:
    """One item's score on the sheet: within 0..max, and every point taken off needs its reason (扣分说明).
    Used by the form (a field error) and by the action that saves (the same rule, whatever the caller)."""
    if score is None:
        return None
    score = Decimal(score)
    if score < 0 or score > item.max_score:
        raise ApplicationError(f"“{item.title}”的得分应在0至{item.max_score}之间。", field=f"item_{item.pk}")
    if score < item.max_score and not (note or "").strip():
        lost = (item.max_score - score).normalize()
        raise ApplicationError(f"“{item.title}”扣了{lost:f}分，请填写扣分说明。", field=f"note_{item.pk}")
    return score
