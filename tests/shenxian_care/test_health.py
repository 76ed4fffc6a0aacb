"""/healthz tells an operator's monitor whether the portal and its background work are alive; logs carry the
request id, as JSON lines when LOG_FORMAT=json."""

import datetime
import json
import logging
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from shenxian_care import heartbeat
from shenxian_care.models import OutboxTask
from shenxian_care.observability import JsonFormatter, RequestIdFilter
from tests.factories import RecipientFactory

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL), as in .ci/run")
CLOSED_PORT = "redis://127.0.0.1:6390/0"


@pytest.fixture
def without_redis(settings):
    settings.REDIS_URL = ""


@pytest.fixture
def live_redis(settings):
    settings.REDIS_URL = REDIS_URL
    client = heartbeat.redis_client()
    yield client
    client.delete("shenxian:heartbeat:beat", "shenxian:heartbeat:worker")
    client.close()


@pytest.mark.django_db
def test_healthz_answers_without_sign_in_and_without_personal_data(client, without_redis):
    recipient = RecipientFactory(name="王健康")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["queue"] == {"ok": True, "outbox_depth": 0, "unsent": 0, "oldest_job_age_seconds": None}
    assert body["checks"]["beat"]["configured"] is False  # tasks run in-process: nothing to watch
    assert recipient.name not in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_503_when_background_work_has_waited_too_long(client, without_redis, settings):
    settings.HEALTH_QUEUE_MAX_AGE = 600
    entry = OutboxTask.objects.create(task_name="billing.tasks.settlement_compute_task", args=["2026-10-01", 1])
    OutboxTask.objects.filter(pk=entry.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    OutboxTask.objects.create(task_name="x", done_at=timezone.now())  # finished work does not count

    response = client.get("/healthz")

    assert response.status_code == 503
    queue = response.json()["checks"]["queue"]
    assert queue["ok"] is False
    assert queue["outbox_depth"] == 1 and queue["unsent"] == 1
    assert queue["oldest_job_age_seconds"] >= 3600


@pytest.mark.django_db
def test_healthz_is_503_at_once_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = CLOSED_PORT
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert checks["beat"]["ok"] is False and checks["worker"]["ok"] is False
    assert checks["database"]["ok"] is True


@needs_redis
@pytest.mark.django_db
def test_healthz_reads_beat_and_worker_heartbeats(client, live_redis, settings):
    settings.HEALTH_HEARTBEAT_MAX_AGE = 120
    assert heartbeat.record(heartbeat.BEAT) and heartbeat.record(heartbeat.WORKER)
    fresh = client.get("/healthz")
    assert fresh.status_code == 200, fresh.json()
    assert fresh.json()["checks"]["beat"]["heartbeat_age_seconds"] < 60

    # beat stopped five minutes ago
    live_redis.set("shenxian:heartbeat:beat", f"{time.time() - 300:.3f}")
    stale = client.get("/healthz")
    assert stale.status_code == 503
    assert stale.json()["checks"]["beat"] == {"ok": False, "heartbeat_age_seconds": pytest.approx(300, abs=30)}
    assert stale.json()["checks"]["worker"]["ok"] is True


@needs_redis
@pytest.mark.django_db
def test_beat_records_its_heartbeat_at_every_tick(live_redis, tmp_path):
    from shenxian_care.beat import HeartbeatScheduler
    from shenxian_care.celery import app

    scheduler = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "schedule"), lazy=True)
    scheduler.setup_schedule()
    live_redis.delete("shenxian:heartbeat:beat")
    try:
        next_tick = scheduler.tick()
    finally:
        scheduler.close()
    assert next_tick <= heartbeat.BEAT_TICK_SECONDS
    assert heartbeat.age_seconds(heartbeat.BEAT, client=live_redis) < 5


@pytest.mark.django_db
def test_the_request_id_is_returned_and_on_the_log_lines_of_the_request(client, without_redis, caplog):
    given = "nginx-7f3a9c2e5b"
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] == given
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32 and made != given
    assert client.get("/healthz", HTTP_X_REQUEST_ID='bad"id\n{}')["X-Request-ID"] != 'bad"id\n{}'

    # Django logs a 404 after the middleware has returned: the line still has the request's id.
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RequestIdFilter())
    logging.getLogger("django.request").addHandler(handler)
    try:
        client_as_anyone = client.get("/no-such-page/", HTTP_X_REQUEST_ID=given)
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert client_as_anyone.status_code == 404
    assert [record.request_id for record in records] == [given]


def test_json_log_lines_are_one_object_each_with_the_request_id():
    record = logging.LogRecord("billing", logging.ERROR, __file__, 1, "结算 %s 失败", ("2026-10",), None)
    record.request_id = "abc12345"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "结算 2026-10 失败"
    assert (entry["level"], entry["logger"], entry["request_id"]) == ("ERROR", "billing", "abc12345")
    assert "ValueError: boom" in entry["exception"]
    assert datetime.datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_log_format_json_makes_every_line_json():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shenxian_care.settings.test", "LOG_FORMAT": "json"}
    code = "import logging; logging.getLogger('shenxian_care').warning('队列 %s', 3)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert [(line["message"], line["request_id"]) for line in lines] == [("队列 3", "-")]
