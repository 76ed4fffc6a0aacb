"""The window arithmetic every day count rests on (`shenxian_care.months`)."""

import datetime

from shenxian_care.months import overlap, window_days

D = datetime.date


def test_overlap_is_the_latest_first_day_and_the_earliest_last_day():
    # a month, a support that began on the 10th, an agreement that ended on the 20th
    assert overlap((D(2025, 3, 1), D(2025, 3, 31)), (D(2025, 3, 10), None), (D(2024, 1, 1), D(2025, 3, 20))) == (
        D(2025, 3, 10),
        D(2025, 3, 20),
    )
    # the same windows in another order give the same days
    assert overlap((D(2024, 1, 1), D(2025, 3, 20)), (D(2025, 3, 10), None), (D(2025, 3, 1), D(2025, 3, 31))) == (
        D(2025, 3, 10),
        D(2025, 3, 20),
    )


def test_open_ends_stay_open_and_one_day_in_common_is_a_day():
    assert overlap((None, None), (D(2025, 3, 5), None)) == (D(2025, 3, 5), None)
    assert overlap((None, D(2025, 3, 5)), (None, D(2025, 3, 9))) == (None, D(2025, 3, 5))
    assert overlap((D(2025, 3, 5), D(2025, 3, 9)), (D(2025, 3, 9), D(2025, 3, 12))) == (D(2025, 3, 9), D(2025, 3, 9))
    assert window_days(overlap((D(2025, 3, 5), D(2025, 3, 9)), (D(2025, 3, 9), None))) == 1


def test_windows_that_share_no_day_have_no_overlap():
    assert overlap((D(2025, 3, 1), D(2025, 3, 9)), (D(2025, 3, 10), None)) is None
    assert overlap((D(2025, 3, 10), None), (None, D(2025, 3, 9))) is None
    assert window_days(None) == 0
