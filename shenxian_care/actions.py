"""Writes of the cross-cutting pieces: user accounts, export jobs."""

import datetime
import io
import logging
import tempfile

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from rest_framework.authtoken.models import Token

from . import exports
from .audit import record_event
from .authentication import new_token_key
from .exceptions import ApplicationError
from .models import (
    ExportJob,
    ExportStatus,
    JobProgress,
    Role,
    SecurityEventKind,
    User,
    UserSession,
    export_storage,
)
from .permissions import ensure_role
from .progress import SideProgress, job_key, run_alive
from .queue import another_run_has_it, enqueue
from .scoping import actor_role, caregiver_of, scope_key

logger = logging.getLogger(__name__)
EXPORT_FAILED = "生成文件时出错，请稍后重新导出；如仍失败，请联系县民政局。"
EXPORT_TIMED_OUT = "导出超时未完成，已取消，请重新导出。"
# A job waiting longer than this is taken as lost (its message gone with a broker restart): it no longer stands in
# for a new request. A running job is lost as soon as its run stops beating (progress.run_alive: a worker killed).
EXPORT_STALE_AFTER = datetime.timedelta(minutes=30)


@transaction.atomic
def user_deactivate(*, actor, user, request=None):
    """Deactivate a login and end every session and API token it has, at once (server-side). The one way a login is
    deactivated: the admin's user form and action, and a caregiver's leaving (`contracts.actions.caregiver_deactivate`)
    all come here. Bureau staff may deactivate anyone; provider staff their own caregivers' logins only."""
    if actor_role(actor) == Role.PROVIDER:
        caregiver = caregiver_of(user)
        if caregiver is None or caregiver.provider_id != actor.provider_id:
            raise PermissionDenied("只能停用本机构照料护理人的账号。")
    else:
        ensure_role(actor, Role.BUREAU)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    Token.objects.filter(user=user).delete()
    record_event(kind=SecurityEventKind.DEACTIVATED, user=actor, request=request, target=user.get_username())
    return user


def password_check(password, *, user=None, field="password"):
    """The one password policy (AUTH_PASSWORD_VALIDATORS: 12 characters, three classes, not common, not like the
    name) for every way a password is set; the admin's forms apply the same validators themselves."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("".join(exc.messages), field=field) from None


@transaction.atomic
def api_token_issue(*, user):
    """A new API token for a phone that has just signed in (an older one of that user's ends: one phone each)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user, key=new_token_key(user))


def api_token_revoke(*, token, request=None):
    """Sign-out from the phone: its token ends now."""
    user = token.user
    token.delete()
    record_event(kind=SecurityEventKind.SIGN_OUT, user=user, request=request, via="api")


@transaction.atomic
def export_request(*, actor, kind, params, file_name):
    """Queue an export for `actor` (the app's view has checked the role and the parameters). The file is
    built in the background as `actor`. The same export asked for again while the first is still waiting
    or running (a double click) is that first job, not a second one."""
    exports.get(kind)
    if actor_role(actor) is None:
        raise PermissionDenied("请先登录。")
    # one request at a time per person (a real double click sends two at once): the second waits and finds the first
    User.objects.select_for_update().filter(pk=actor.pk).first()
    now = timezone.now()
    same = ExportJob.objects.for_actor(actor).filter(
        kind=kind, params=params, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    )
    for job in same.order_by("-created_at"):
        if job.status == ExportStatus.QUEUED and job.created_at >= now - EXPORT_STALE_AFTER:
            return job
        if job.status == ExportStatus.RUNNING and run_alive(job):
            return job
    # one that hung, or whose worker died, is given up, so that it never blocks the export for good
    same.update(status=ExportStatus.FAILED, error=EXPORT_TIMED_OUT, finished_at=now)
    job = ExportJob.objects.create(
        requested_by=actor, kind=kind, params=params, file_name=file_name[:200], scope=scope_key(actor)
    )
    enqueue("shenxian_care.tasks.export_run_task", job.pk)
    return job


def export_run(*, job_id):
    """Build a queued export (the background half of `export_request`). Safe to run twice: a finished or failed
    job is left alone, and so is one another worker is building (its run beats: progress.run_alive); one whose
    worker died (no beat for JOB_LEASE_SECONDS) is built again from the start. The run's start time is its claim:
    only the run that holds it may finish or fail the job, so a run that was overtaken leaves no trace (its file
    is removed)."""
    progress = None
    try:
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update()
                .filter(pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])
                .first()
            )
            if job is None:
                return None
            if job.status == ExportStatus.RUNNING and run_alive(job):
                another_run_has_it()  # if that run dies, the outbox sends this again and it is built here
                return None
            # The lease first: from the moment the claim is committed the run beats.
            progress = SideProgress(job)
            now = timezone.now()
            job.status, job.started_at = ExportStatus.RUNNING, now
            job.save(update_fields=["status", "started_at"])
    except BaseException:
        if progress is not None:
            progress.close()
        raise
    claim = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, started_at=now)
    try:
        # A savepoint of its own, so that a database error in a builder never spoils the record of failure.
        outermost = not transaction.get_connection().in_atomic_block
        with transaction.atomic(), tempfile.TemporaryFile() as out:
            if outermost:
                _one_snapshot()
            summary = _build(job, out, progress)
            size = out.seek(0, io.SEEK_END)
            out.seek(0)
            job.file.save(job.file_name, File(out), save=False)
    except ApplicationError as exc:
        return _export_failed(claim, exc.message)
    except Http404:
        return _export_failed(claim, "未找到要导出的记录，或您无权查看。")
    except PermissionDenied:
        return _export_failed(claim, "您的角色无权导出此内容。")
    except Exception:
        logger.exception("export job %s (%s) failed", job.pk, job.kind)
        return _export_failed(claim, EXPORT_FAILED)
    finally:
        progress.close()
    if not claim.update(
        status=ExportStatus.DONE, file=job.file.name, size=size, summary=summary, finished_at=timezone.now()
    ):
        job.file.storage.delete(job.file.name)  # overtaken by a later run, or given up: not this run's job any more
        return None
    return ExportStatus.DONE


def _one_snapshot():
    """On PostgreSQL the whole file is read from one snapshot: a month recomputed while its workbook is being
    written cannot leave sheets that disagree (the detail from before, the totals from after)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _build(job, out, progress):
    spec = exports.get(job.kind)
    actor = User.objects.select_related("town", "provider").get(pk=job.requested_by_id)
    if actor_role(actor) is None or scope_key(actor) != job.scope:
        raise ApplicationError("申请人的账号已停用或权限已变更，本次导出已取消。")
    summary = spec.build(actor=actor, params=job.params, out=out, progress=progress) or {}
    progress.finish()
    return summary


def _export_failed(claim, message):
    if not claim.update(status=ExportStatus.FAILED, error=message[:300], file="", finished_at=timezone.now()):
        return None
    return ExportStatus.FAILED


def export_cleanup(*, now=None):
    """Delete export jobs asked for more than EXPORT_RETENTION_DAYS ago, with their files and progress rows.
    Returns how many went. Idempotent (a file already gone is simply skipped)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    expired = list(ExportJob.objects.filter(created_at__lt=cutoff).only("pk", "file"))
    for job in expired:
        if job.file:
            job.file.storage.delete(job.file.name)
    JobProgress.objects.filter(job__in=[job_key(job) for job in expired]).delete()
    ExportJob.objects.filter(pk__in=[job.pk for job in expired]).delete()
    _remove_stray_files(cutoff)
    return len(expired)


def _remove_stray_files(cutoff):
    """Files older than the retention that no job points to (a worker killed between writing the file and
    recording it) go too: nothing in the exports folder outlives the retention."""
    storage = export_storage()
    if not storage.exists(""):
        return
    kept = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    for folder in storage.listdir("")[0]:
        for name in storage.listdir(folder)[1]:
            path = f"{folder}/{name}"
            if path not in kept and storage.get_modified_time(path) < cutoff:
                storage.delete(path)
