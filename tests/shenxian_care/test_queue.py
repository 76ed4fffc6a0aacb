"""Redis being down never stops the portal: background work waits in the outbox and the portal says so."""

import datetime
import time

import pytest
from celery import Celery, shared_task
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shenxian_care import queue
from shenxian_care.models import OutboxTask

RAN = []


@shared_task(name="tests.record_run")
def record_run(value):
    RAN.append(value)
    return value


@pytest.fixture(autouse=True)
def clear_runs():
    RAN.clear()


@pytest.fixture
def broker_down(monkeypatch):
    """A Celery app whose broker is a closed port on this machine, in place of the real one."""
    app = Celery("down", broker="redis://127.0.0.1:6390/0", set_as_current=False)
    app.conf.broker_connection_timeout = 1
    app.conf.task_always_eager = False
    monkeypatch.setattr(queue, "current_app", app)
    return app


@pytest.mark.django_db(transaction=True)
def test_in_process_mode_runs_the_task_after_commit():
    with transaction.atomic():
        entry = queue.enqueue("tests.record_run", "settle 2026-10")
        assert RAN == []  # not before the work that asked for it is committed
    assert RAN == ["settle 2026-10"]
    entry.refresh_from_db()
    assert entry.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_broker_down_keeps_the_task_and_the_request_goes_on(broker_down):
    started = time.monotonic()
    entry = queue.enqueue("tests.record_run", "export")
    assert time.monotonic() - started < 10  # fails fast, no hanging page
    entry.refresh_from_db()
    assert entry.sent_at is None and entry.attempts == 1 and entry.last_error


@pytest.mark.django_db(transaction=True)
def test_waiting_tasks_are_sent_when_the_broker_is_back(broker_down, monkeypatch):
    queue.enqueue("tests.record_run", "a")
    queue.enqueue("tests.record_run", "b")
    assert OutboxTask.objects.filter(sent_at__isnull=True).count() == 2
    sent = []
    monkeypatch.setattr(broker_down, "send_task", lambda name, args, kwargs, **options: sent.append(args))
    assert queue.relay_pending() == 2
    assert sent == [["a"], ["b"]]
    assert queue.relay_pending() == 0  # never sent twice
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_portal_says_background_work_is_delayed(client_as, bureau_user):
    client = client_as(bureau_user)
    assert "消息队列暂不可用" not in client.get(reverse("portal:home")).content.decode()
    entry = OutboxTask.objects.create(task_name="tests.record_run", args=["late"])
    OutboxTask.objects.filter(pk=entry.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    page = client.get(reverse("portal:home"))
    assert page.status_code == 200
    assert "消息队列暂不可用" in page.content.decode()
