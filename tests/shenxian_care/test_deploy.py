"""What deploy/ hands a county's IT stays true to the code."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
TEST_ONLY = {"CELERY_REAL_WORKER", "DEMO_DATA_ALLOWED"}


def test_the_sample_environment_lists_every_variable_the_settings_read():
    read = set()
    for module in (ROOT / "shenxian_care" / "settings").glob("*.py"):
        read |= set(READ.findall(module.read_text(encoding="utf-8")))
    sample = (ROOT / "deploy" / "shenxian.env").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", sample, flags=re.M))
    assert read - TEST_ONLY <= listed, sorted(read - TEST_ONLY - listed)


def test_the_procfile_runs_exactly_one_beat_and_the_runtime_has_no_test_tools():
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    commands = dict(re.findall(r"^(\w+):\s*(.+)$", procfile, flags=re.M))
    assert set(commands) == {"web", "worker", "beat"}
    assert commands["web"].startswith("gunicorn ")
    assert commands["beat"].split()[:4] == ["celery", "--app", "shenxian_care", "beat"]
    runtime = (ROOT / "requirements.txt").read_text(encoding="utf-8").lower()
    pinned = re.findall(r"^([a-z0-9_.-]+)==", runtime, flags=re.M)
    assert {"gunicorn", "whitenoise", "honcho", "django"} <= set(pinned)
    assert not {"pytest", "playwright", "schemathesis", "ruff", "factory-boy", "bandit"} & set(pinned)
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert dev.splitlines()[1] == "-r requirements.txt"
