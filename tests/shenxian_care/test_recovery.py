"""Faults the portal comes back from without a person, proved with a real worker on Redis and PostgreSQL:
a worker killed mid-export, Redis losing a task it had taken, Redis down or hung while people press buttons."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import redis
from celery import Celery
from django.urls import reverse

from shenxian_care import actions, heartbeat, queue
from shenxian_care.celery import app as celery_app
from shenxian_care.models import ExportJob, ExportStatus, OutboxTask
from shenxian_care.progress import progress_of, run_alive
from tests.worker import as_default_queue, real_worker_available, start_worker_process, stop, wait_for

from . import slow_export

REDIS_URL = os.environ.get("REDIS_URL", "")
LEASE = 4
WORKER = {"include": ["tests.shenxian_care.slow_export"], "JOB_LEASE_SECONDS": str(LEASE)}


@pytest.fixture
def worker_queue():
    if not real_worker_available():
        pytest.skip("a worker process cannot share an in-memory SQLite test database; run with DATABASE_URL")
    name = f"recovery-{uuid.uuid4().hex[:10]}"
    started = []

    def start():
        process = start_worker_process(name, **WORKER)
        started.append(process)
        return process

    with as_default_queue(name):
        yield name, start
    for process in started:
        stop(process)


def app_on(url):
    """A Celery app configured as the portal's (broker, result backend, timeouts), on another Redis address."""
    app = Celery("elsewhere", broker=url, backend=url, set_as_current=False)
    keys = ("broker_connection_timeout", "broker_transport_options", "redis_socket_connect_timeout",
            "redis_socket_timeout", "broker_connection_retry_on_startup")  # fmt: skip
    app.conf.update({key: celery_app.conf[key] for key in keys}, task_always_eager=False)
    return app


def ask(actor, rows, delay=0.0):
    return actions.export_request(
        actor=actor, kind=slow_export.KIND, params={"rows": rows, "delay": delay}, file_name="慢导出.xlsx"
    )


def finished(job):
    job.refresh_from_db()
    return job.status in (ExportStatus.DONE, ExportStatus.FAILED)


def rows_of(job):
    from openpyxl import load_workbook

    with job.file.open("rb") as f:
        return [tuple(row) for row in load_workbook(f, read_only=True).active.iter_rows(values_only=True)]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL), as in .ci/run")
def test_a_worker_killed_mid_export_is_seen_dead_and_the_export_is_redone_once(bureau_user, worker_queue, settings):
    name, start = worker_queue
    settings.JOB_LEASE_SECONDS = LEASE
    settings.OUTBOX_RESEND_AFTER = 0  # the minute's relay finds it overdue at once
    first = start()
    job = ask(bureau_user, rows=400, delay=0.02)
    wait_for(lambda: progress_of(job)[0] > 0, 90, "the export to get going on the first worker")

    # when: the worker is killed mid-build
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    # then: within the lease it is seen as dead (not "running" for hours) and its page says so
    wait_for(lambda: not run_alive(job), LEASE * 3, "the dead run's lease to run out")
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING
    entry = OutboxTask.objects.get(args=[job.pk])
    assert entry.done_at is None  # Redis took it, but nobody finished it
    # and the outbox sends it again, a new worker builds it, once, identical to an uninterrupted run
    start()
    assert queue.relay_pending() == 1
    wait_for(lambda: finished(job), 120, "the export to be redone")
    assert job.status == ExportStatus.DONE
    assert rows_of(job) == [("序号", "平方"), *[(i, i * i) for i in range(400)]]
    wait_for(lambda: OutboxTask.objects.filter(pk=entry.pk, done_at__isnull=False).exists(), 30, "done mark")
    assert ExportJob.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL), as in .ci/run")
def test_a_task_lost_with_redis_memory_is_sent_again_and_runs_once(bureau_user, worker_queue, settings):
    name, start = worker_queue
    # given: an export taken by Redis, then lost with it (a restart without persistence), before any worker ran it
    job = ask(bureau_user, rows=5)
    entry = OutboxTask.objects.get(args=[job.pk])
    assert entry.sent_at is not None and entry.done_at is None
    client = redis.Redis.from_url(REDIS_URL)
    assert client.delete(name) == 1
    client.close()
    start()

    # when: the outbox's relay finds it sent long enough ago and still not done
    assert queue.relay_pending() == 0  # not overdue yet: nothing is sent twice for nothing
    settings.OUTBOX_RESEND_AFTER = 0
    assert queue.relay_pending() == 1

    # then: it runs, once, and the worker marks the entry done
    wait_for(lambda: finished(job), 120, "the export to run")
    assert job.status == ExportStatus.DONE
    wait_for(lambda: OutboxTask.objects.filter(pk=entry.pk, done_at__isnull=False).exists(), 30, "done mark")
    assert queue.relay_pending() == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL), as in .ci/run")
def test_with_redis_down_a_button_answers_at_once_and_the_work_runs_once_when_it_is_back(
    client_as, bureau_user, worker_queue, monkeypatch
):
    name, start = worker_queue
    # Redis down: broker and result backend both on a closed port (the result backend's reconnects were what
    # held a page 19 seconds).
    monkeypatch.setattr(queue, "current_app", app_on("redis://127.0.0.1:6390/0"))
    client = client_as(bureau_user)

    started = time.monotonic()
    response = client.post(reverse("services:compliance_export"), {"month": "2026-10"})
    assert time.monotonic() - started < 2
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert OutboxTask.objects.get(args=[job.pk]).sent_at is None  # kept, not lost

    # Redis is back: the relay sends it and it runs once
    monkeypatch.undo()
    start()
    assert queue.relay_pending() == 1
    wait_for(lambda: finished(job), 120, "the export to run")
    assert job.status == ExportStatus.DONE
    assert queue.relay_pending() == 0
    assert ExportJob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_hung_redis_holds_no_request_for_more_than_a_few_seconds(client_as, bureau_user, monkeypatch, settings):
    # A server that accepts connections and never answers (a hung Redis).
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop_accepting = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop_accepting.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    monkeypatch.setattr(queue, "current_app", app_on(url))
    settings.REDIS_URL = url
    client = client_as(bureau_user)
    try:
        started = time.monotonic()
        response = client.post(reverse("services:compliance_export"), {"month": "2026-10"})
        button = time.monotonic() - started
        started = time.monotonic()
        health = client.get("/healthz")
        probe = time.monotonic() - started
    finally:
        stop_accepting.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()
    assert response.status_code == 302 and button < 8
    assert OutboxTask.objects.get().sent_at is None
    assert health.status_code == 503 and probe < 4
    assert health.json()["checks"]["redis"]["ok"] is False


def test_workers_and_beat_never_give_up_on_redis():
    # The default gives up after 100 attempts (about 46 minutes), and the process exits.
    assert celery_app.conf.broker_connection_retry is True
    assert celery_app.conf.broker_connection_max_retries is None
    assert celery_app.conf.result_backend_always_retry is True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to start one of its own")
def test_a_worker_started_while_redis_is_down_waits_for_it_and_then_works():
    if not real_worker_available():
        pytest.skip("a worker process cannot share an in-memory SQLite test database; run with DATABASE_URL")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    name = f"recovery-{uuid.uuid4().hex[:10]}"
    worker = start_worker_process(name, REDIS_URL=url)
    redis_server = None
    try:
        time.sleep(3)  # Redis is down while the worker starts
        assert worker.poll() is None, "the worker gave up on Redis"
        redis_server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(url, socket_timeout=2)

        def answers():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, 30, "redis-server to start")
        # the minute's relay, sent by beat: the worker runs it once it has reached Redis, and says it is alive
        app_on(url).send_task("shenxian_care.tasks.outbox_relay_task", queue=name, ignore_result=True)
        wait_for(lambda: heartbeat.age_seconds(heartbeat.WORKER, client=client) is not None, 90, "the worker")
        client.close()
    finally:
        stop(worker)
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)
