from django.conf import settings

from shenxian_care.celery import app


def test_every_supervision_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    names = [
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("supervision.")
    ]
    assert sorted(names) == [
        "supervision.tasks.evaluation_remind_missing_task",
        "supervision.tasks.half_year_review_build_task",
        "supervision.tasks.rectification_mark_overdue_task",
    ]
    assert all(name in app.tasks for name in names)
    review = settings.CELERY_BEAT_SCHEDULE["half-year-review"]["schedule"]
    assert review.month_of_year == {1, 7} and review.day_of_month == {1}
