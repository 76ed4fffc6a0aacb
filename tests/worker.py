"""A real Celery worker for tests that must prove work goes through Redis, as in production.

The worker is a subprocess on a queue of its own (unique per run, so parallel runs never take each other's
tasks), pointed at this test database; tests using it commit their rows (transaction=True) so it sees them.
Needs PostgreSQL (a worker process cannot share an in-memory SQLite database) and REDIS_URL.
"""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from shenxian_care.celery import app as celery_app

ROOT = Path(settings.BASE_DIR)


def real_worker_available():
    return bool(os.environ.get("REDIS_URL")) and connection.vendor == "postgresql"


def wait_for(predicate, timeout, what):
    """Wait until `predicate()` is true, at most `timeout` seconds; fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_database_url():
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker_process(queue, include=(), **env_extra):
    """A `celery worker` subprocess consuming `queue`, on this test database; `include`: more modules to import
    (tasks or exports that only tests define)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shenxian_care.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_REAL_WORKER": "1",
        "PYTHONPATH": str(ROOT),
        **env_extra,
    }
    celery = Path(sys.executable).with_name("celery")
    node = f"{queue}-{uuid.uuid4().hex[:4]}@%h"
    return subprocess.Popen(  # noqa: S603 - fixed arguments, our own venv's celery
        [str(celery), "-A", "shenxian_care", "worker", "--pool=solo", "-Q", queue, "-n", node,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning",
         *(["--include", ",".join(include)] if include else [])],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


@contextmanager
def as_default_queue(queue):
    """Send this process's tasks to `queue` (and through the broker, not in-process) for a while."""
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved


def stop(process):
    if process.poll() is not None:
        return
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    if process.returncode not in (0, -15, 15):
        print(output.decode(errors="replace"))  # noqa: T201 - shown only when the worker failed


@contextmanager
def celery_worker(prefix="test"):
    """Start a worker on a fresh queue; make it the default queue of this process while it runs."""
    queue = f"{prefix}-{uuid.uuid4().hex[:12]}"
    process = start_worker_process(queue)
    try:
        with as_default_queue(queue):
            yield queue
    finally:
        stop(process)
