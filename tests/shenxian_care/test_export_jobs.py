"""Exports as background jobs: one job per request, built as the person who asked, downloaded only by them
(audited), failures in Chinese, old files cleaned up."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from recipients.models import Recipient
from shenxian_care import actions, exports
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import ExportJob, ExportStatus, JobProgress, OutboxTask, SecurityEvent
from shenxian_care.progress import job_key, progress_of, run_alive
from tests.factories import RecipientFactory, VillageFactory, town

pytestmark = pytest.mark.django_db


def build_names(*, actor, params, out, progress):
    """A small export scoped like any page: the names of the recipients the actor may see."""
    names = list(Recipient.objects.for_actor(actor).order_by("name").values_list("name", flat=True))
    progress.start(len(names))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(("姓名",))
    for name in names:
        ws.append((name,))
        progress.tick()
    wb.save(out)
    return {"rows": len(names), "note": params.get("note", "")}


def build_refused(*, actor, params, out, progress):
    raise ApplicationError("该月尚无结算，无法导出。")


def build_broken(*, actor, params, out, progress):
    progress.start(10)
    return {}["missing"]


exports.register("tests.names", title="测试名单", build=build_names)
exports.register("tests.refused", title="测试拒绝", build=build_refused)
exports.register("tests.broken", title="测试故障", build=build_broken)


@pytest.fixture
def people(db):
    RecipientFactory(village=VillageFactory(town=town("燕塔街道")), name="本镇甲")
    RecipientFactory(village=VillageFactory(town=town("燕塔街道")), name="本镇乙")
    RecipientFactory(village=VillageFactory(town=town("朝城镇")), name="外镇丙")


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """start(actor, kind, params, execute=True): ask for an export; with `execute` the task runs (in-process)."""

    def run(actor, kind="tests.names", params=None, execute=True):
        with django_capture_on_commit_callbacks(execute=execute):
            job = actions.export_request(actor=actor, kind=kind, params=params or {}, file_name="测试名单.xlsx")
        job.refresh_from_db()
        return job

    return run


def test_starting_an_export_creates_one_job_and_queues_it(town_user, start):
    # when
    job = start(town_user, params={"note": "x"}, execute=False)
    again = start(town_user, params={"note": "x"}, execute=False)  # a double click

    # then
    assert again.pk == job.pk
    assert ExportJob.objects.count() == 1
    assert (job.status, job.requested_by, job.kind, job.params) == ("queued", town_user, "tests.names", {"note": "x"})
    assert job.scope == f"town:{town_user.town_id}"
    queued = OutboxTask.objects.get()
    assert (queued.task_name, queued.args) == ("shenxian_care.tasks.export_run_task", [job.pk])


def test_a_job_hung_for_longer_than_the_limit_never_blocks_a_new_request(town_user, people, start):
    # given a job whose message was lost with a broker restart two hours ago: it still says "running"
    hung = start(town_user, execute=False)
    ExportJob.objects.filter(pk=hung.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(hours=2)
    )
    # when the same export is asked for again
    fresh = start(town_user)
    # then a new job builds the file, and the hung one is given up with a reason in Chinese
    assert fresh.pk != hung.pk and fresh.status == ExportStatus.DONE
    hung.refresh_from_db()
    assert (hung.status, hung.error) == (ExportStatus.FAILED, actions.EXPORT_TIMED_OUT)
    # a late redelivery of its message changes nothing
    assert actions.export_run(job_id=hung.pk) is None


def test_a_second_delivery_while_a_worker_builds_the_job_leaves_it_alone(town_user, people, start):
    job = start(town_user, execute=False)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    JobProgress.objects.create(job=job_key(job), done=3, total=10)  # the running worker's heartbeat, just now
    assert actions.export_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and not job.file


def test_a_resend_that_finds_another_run_building_the_job_leaves_its_outbox_entry_pending(town_user, people, start):
    from shenxian_care.queue import HEADER, relay_pending
    from shenxian_care.tasks import export_run_task

    # given a job a worker is building now (its lease beats), whose message the outbox sent again
    job = start(town_user, execute=False)
    entry = OutboxTask.objects.get()
    OutboxTask.objects.filter(pk=entry.pk).update(sent_at=timezone.now() - datetime.timedelta(hours=1))
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    JobProgress.objects.create(job=job_key(job), done=3, total=10)

    # when the resent message reaches a worker: the job is left to the run that has it
    export_run_task.apply(args=[job.pk], headers={HEADER: entry.pk})
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and not job.file
    # then the entry is not done: if that run dies, the outbox sends the job again
    entry.refresh_from_db()
    assert entry.done_at is None

    # when that run dies (no beat for longer than the lease), the outbox's next relay sends it and it is built
    JobProgress.objects.filter(job=job_key(job)).update(updated_at=timezone.now() - datetime.timedelta(minutes=5))
    assert not run_alive(job)
    if connection.vendor == "postgresql":
        # the new run's heartbeat goes on a connection of its own and would wait for this test's uncommitted row;
        # a real worker killed mid-export and its work sent again: tests/shenxian_care/test_recovery.py
        return
    assert relay_pending() == 1  # in-process here: sending is running it
    job.refresh_from_db()
    entry.refresh_from_db()
    assert job.status == ExportStatus.DONE and entry.done_at is not None


def test_a_task_that_finishes_marks_its_outbox_entry_done(town_user, people, start):
    from shenxian_care.queue import HEADER
    from shenxian_care.tasks import export_run_task

    job = start(town_user, execute=False)
    entry = OutboxTask.objects.get()
    export_run_task.apply(args=[job.pk], headers={HEADER: entry.pk})
    entry.refresh_from_db()
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.DONE and entry.done_at is not None


def test_a_job_whose_worker_stopped_beating_is_dead_at_once_not_after_half_an_hour(
    town_user, people, start, client_as, settings
):
    # given a job started a minute ago whose worker was killed: its last heartbeat is older than the lease
    settings.JOB_LEASE_SECONDS = 45
    dead = start(town_user, execute=False)
    ExportJob.objects.filter(pk=dead.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    JobProgress.objects.create(job=job_key(dead), done=3, total=10)
    JobProgress.objects.filter(job=job_key(dead)).update(updated_at=timezone.now() - datetime.timedelta(seconds=50))

    # then its page says it stopped, instead of "running 30%"
    progress = client_as(town_user).get(reverse("portal:export_progress", args=[dead.pk])).json()
    assert (progress["running"], progress["stalled"], progress["status_display"]) == (False, True, "已中断")
    # and asking again builds it anew, while a late delivery of the dead run's message changes nothing
    fresh = start(town_user)
    assert fresh.pk != dead.pk and fresh.status == ExportStatus.DONE
    dead.refresh_from_db()
    assert dead.status == ExportStatus.FAILED
    assert actions.export_run(job_id=dead.pk) is None


# Committed rows: on PostgreSQL the run's heartbeat is written from a connection of its own.
@pytest.mark.django_db(transaction=True)
def test_the_outbox_sending_a_dead_run_again_builds_it(town_user, people, start, settings):
    settings.JOB_LEASE_SECONDS = 45
    dead = start(town_user, execute=False)
    ExportJob.objects.filter(pk=dead.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    JobProgress.objects.update_or_create(job=job_key(dead))
    JobProgress.objects.filter(job=job_key(dead)).update(updated_at=timezone.now() - datetime.timedelta(minutes=2))
    assert actions.export_run(job_id=dead.pk) == ExportStatus.DONE
    dead.refresh_from_db()
    assert dead.status == ExportStatus.DONE and dead.file


def build_overtaken(*, actor, params, out, progress):
    """A run that is overtaken while it builds: another worker claims the job (a later start time)."""
    ExportJob.objects.filter(pk=params["job"]).update(started_at=timezone.now() + datetime.timedelta(seconds=1))
    return build_names(actor=actor, params=params, out=out, progress=progress)


exports.register("tests.overtaken", title="测试接管", build=build_overtaken)


def _stored_files():
    storage = ExportJob.file.field.storage
    if not storage.exists("."):
        return set()
    return {f"{month}/{name}" for month in storage.listdir(".")[0] for name in storage.listdir(month)[1]}


def test_a_run_overtaken_by_another_worker_leaves_no_trace(town_user, people, start):
    job = start(town_user, kind="tests.overtaken", execute=False)
    ExportJob.objects.filter(pk=job.pk).update(params={"job": job.pk})
    before = _stored_files()

    assert actions.export_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and not job.file  # the other worker's to finish
    assert _stored_files() == before  # the overtaken run's file is removed


def test_the_file_is_built_as_the_person_who_asked(town_user, people, start):
    job = start(town_user)

    assert job.status == ExportStatus.DONE
    assert job.started_at <= job.finished_at and job.size > 0
    assert job.summary == {"rows": 2, "note": ""}
    assert progress_of(job) == (2, 2)
    rows = list(load_workbook(job.file.open("rb"), read_only=True)["名单"].iter_rows(values_only=True))
    assert rows[0] == ("姓名",)
    assert {r[0] for r in rows[1:]} == {"本镇甲", "本镇乙"}  # the town official's scoping applied in the background


def test_the_file_is_private(town_user, people, start):
    job = start(town_user)

    path = job.file.path
    assert str(settings.STORAGES["exports"]["OPTIONS"]["location"]) in path
    assert not path.startswith(str(settings.MEDIA_ROOT))
    assert "测试" not in job.file.name  # the stored name is a token, not the download name
    with pytest.raises(ValueError, match="没有公开地址"):
        job.file.url  # noqa: B018


def test_result_page_progress_and_download_for_the_person_who_asked(client_as, town_user, people, start):
    job = start(town_user)
    client = client_as(town_user)

    page = client.get(reverse("portal:export_detail", args=[job.pk]))
    assert page.status_code == 200
    assert "下载 测试名单.xlsx" in page.content.decode()
    assert client.get(reverse("portal:export_progress", args=[job.pk])).json() == {
        "status": "done", "status_display": "完成", "done": 2, "total": 2, "running": False, "stalled": False,
        "error": "",
    }  # fmt: skip
    response = client.get(reverse("portal:export_download", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX
    assert "attachment" in response["Content-Disposition"] and "utf-8''" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert load_workbook(io.BytesIO(content)).active["A1"].value == "姓名"
    event = SecurityEvent.objects.get(kind="export")
    assert event.user == town_user
    assert event.detail == {
        "what": "测试名单",
        "export": "tests.names",
        "params": job.params,
        "scope": job.scope,
        "job": job.pk,
        "file": "测试名单.xlsx",
        "summary": {"rows": 2, "note": ""},
    }
    assert response["Cache-Control"] == "private, no-store"


def test_every_download_is_recorded(client_as, town_user, people, start):
    job = start(town_user)
    client = client_as(town_user)
    for _ in range(2):
        b"".join(client.get(reverse("portal:export_download", args=[job.pk])).streaming_content)
    assert SecurityEvent.objects.filter(kind="export", detail__job=job.pk).count() == 2


@pytest.mark.parametrize("who", ["other_town_user", "bureau_user", "finance_user", "provider_user"])
def test_nobody_else_sees_or_downloads_the_job(request, client_as, town_user, people, start, who):
    job = start(town_user)
    client = client_as(request.getfixturevalue(who))

    for name in ("export_detail", "export_progress", "export_download"):
        assert client.get(reverse(f"portal:{name}", args=[job.pk])).status_code == 404, name
    assert "测试名单.xlsx" not in client.get(reverse("portal:export_list")).content.decode()
    assert not SecurityEvent.objects.filter(kind="export").exists()


def test_a_file_is_not_handed_out_after_the_owner_moved_town(client_as, town_user, people, start):
    job = start(town_user)
    town_user.town = town("朝城镇")
    town_user.save()

    assert client_as(town_user).get(reverse("portal:export_download", args=[job.pk])).status_code == 404


def test_caregivers_have_no_export_pages(client_as, caregiver_user):
    assert client_as(caregiver_user).get(reverse("portal:export_list")).status_code == 403


def test_a_refused_export_fails_with_its_chinese_message(client_as, bureau_user, start):
    job = start(bureau_user, kind="tests.refused")

    assert (job.status, job.error, job.file.name) == ("failed", "该月尚无结算，无法导出。", "")
    assert job.get_status_display() == "失败"
    client = client_as(bureau_user)
    page = client.get(reverse("portal:export_detail", args=[job.pk])).content.decode()
    assert "导出失败：该月尚无结算，无法导出。" in page
    download = client.get(reverse("portal:export_download", args=[job.pk]))
    assert download.status_code == 302 and download.url == reverse("portal:export_detail", args=[job.pk])


def test_a_broken_builder_fails_with_a_chinese_message_not_a_traceback(bureau_user, start, caplog):
    job = start(bureau_user, kind="tests.broken")

    assert job.status == ExportStatus.FAILED
    assert job.error == actions.EXPORT_FAILED
    assert "KeyError" not in job.error
    assert "export job" in caplog.text  # the details are in the log for whoever keeps the system


def test_an_owner_deactivated_before_the_build_gets_no_file(town_user, people, start):
    job = start(town_user, execute=False)
    type(town_user).objects.filter(pk=town_user.pk).update(is_active=False)

    actions.export_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and "已停用" in job.error


def test_running_a_finished_job_again_changes_nothing(town_user, people, start):
    job = start(town_user)
    assert actions.export_run(job_id=job.pk) is None
    assert ExportJob.objects.get(pk=job.pk).file.name == job.file.name


def test_the_result_page_shows_progress_while_the_file_is_built(client_as, town_user, start):
    job = start(town_user, execute=False)
    JobProgress.objects.create(job=job_key(job), done=3, total=10)

    page = client_as(town_user).get(reverse("portal:export_detail", args=[job.pk])).content.decode()

    assert 'data-progress-url="/portal/exports/' in page
    assert 'max="10" value="3"' in page
    assert "portal/progress.js" in page
    assert client_as(town_user).get(reverse("portal:export_progress", args=[job.pk])).json()["running"] is True


def test_cleanup_deletes_expired_files_and_jobs(bureau_user, people, start):
    old, fresh = start(bureau_user), start(bureau_user, params={"note": "fresh"})
    storage = old.file.storage
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    assert storage.exists(old.file.name)

    assert actions.export_cleanup() == 1

    assert not storage.exists(old.file.name)
    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert not JobProgress.objects.filter(job=job_key(old)).exists()
    assert storage.exists(fresh.file.name) and ExportJob.objects.filter(pk=fresh.pk).exists()
    assert actions.export_cleanup() == 0  # idempotent


def test_cleanup_also_removes_old_files_no_job_points_to(bureau_user, people, start):
    import os

    job = start(bureau_user)
    storage = job.file.storage
    stray = storage.save(job.file.name.split("/")[0] + "/stray.xlsx", ContentFile(b"x"))  # a worker died here
    recent = storage.save(job.file.name.split("/")[0] + "/recent.xlsx", ContentFile(b"x"))
    eight_days_ago = (timezone.now() - datetime.timedelta(days=8)).timestamp()
    os.utime(storage.path(stray), (eight_days_ago, eight_days_ago))

    actions.export_cleanup()

    assert not storage.exists(stray)
    assert storage.exists(recent) and storage.exists(job.file.name)  # newer, or still a job's file
    storage.delete(recent)


def test_cleanup_runs_daily_from_beat():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "shenxian_care.tasks.export_cleanup_task" in schedule


def test_a_file_cleaned_away_is_a_404_not_a_500(client_as, bureau_user, people, start):
    job = start(bureau_user)
    job.file.storage.delete(job.file.name)
    assert client_as(bureau_user).get(reverse("portal:export_download", args=[job.pk])).status_code == 404


def test_my_exports_list_has_a_fixed_number_of_queries(client_as, town_user, django_assert_num_queries):
    client = client_as(town_user)

    def add_jobs(n):
        for i in range(n):
            job = ExportJob.objects.create(
                requested_by=town_user, kind="tests.names", scope=f"town:{town_user.town_id}", file_name=f"{i}.xlsx"
            )
            job.file.save("x.xlsx", ContentFile(b"x"), save=False)
            ExportJob.objects.filter(pk=job.pk).update(status="done", file=job.file.name)

    add_jobs(1)
    with CaptureQueriesContext(connection) as first:
        assert client.get(reverse("portal:export_list")).status_code == 200
    add_jobs(5)
    with django_assert_num_queries(len(first)):
        page = client.get(reverse("portal:export_list"))
    assert page.content.decode().count("测试名单") == 6


def test_the_bureau_reads_every_job_in_the_admin_but_cannot_change_it(client_as, bureau_user, town_user, start):
    job = start(town_user)
    client = client_as(bureau_user)
    listing = client.get("/admin/shenxian_care/exportjob/")
    assert listing.status_code == 200 and "测试名单.xlsx" in listing.content.decode()
    detail = client.get(f"/admin/shenxian_care/exportjob/{job.pk}/change/")
    assert detail.status_code == 200
    assert job.file.name not in detail.content.decode()  # the record, never the file
    assert 'name="_save"' not in detail.content.decode()
    assert client.get("/admin/shenxian_care/exportjob/add/").status_code == 403


def test_a_job_past_its_retention_is_gone_even_before_the_nightly_cleanup(client_as, town_user, people, start):
    job = start(town_user)
    client = client_as(town_user)
    assert client.get(reverse("portal:export_download", args=[job.pk])).status_code == 200
    assert "测试名单" in client.get(reverse("portal:export_list")).content.decode()
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.EXPORT_RETENTION_DAYS, minutes=1)
    )
    assert client.get(reverse("portal:export_download", args=[job.pk])).status_code == 404
    assert client.get(reverse("portal:export_detail", args=[job.pk])).status_code == 404
    assert "测试名单" not in client.get(reverse("portal:export_list")).content.decode()


def test_exports_may_not_be_configured_inside_a_public_folder(settings):
    from shenxian_care.checks import exports_are_not_public

    assert exports_are_not_public(None) == []
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {**settings.STORAGES["exports"], "OPTIONS": {"location": str(settings.MEDIA_ROOT / "exports")}},
    }
    assert [e.id for e in exports_are_not_public(None)] == ["shenxian_care.E001"]


def build_isolation(*, actor, params, out, progress):
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        (level,) = cursor.fetchone()
    Workbook().save(out)
    return {"isolation": level}


exports.register("tests.isolation", title="测试快照", build=build_isolation)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="isolation levels are PostgreSQL's")
def test_a_workbook_is_read_from_one_snapshot(town_user):
    from shenxian_care.scoping import scope_key

    # as a worker runs it: the job's own transaction, not inside another
    job = ExportJob.objects.create(
        requested_by=town_user, kind="tests.isolation", params={}, file_name="快照.xlsx", scope=scope_key(town_user)
    )
    assert actions.export_run(job_id=job.pk) == ExportStatus.DONE
    job.refresh_from_db()
    assert job.summary == {"isolation": "repeatable read"}
