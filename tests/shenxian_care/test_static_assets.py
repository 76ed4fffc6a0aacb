"""Everything the pages load comes from the portal itself: the county network may be closed to the internet."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import override_settings

CHART_JS = "vendor/chartjs/chart.umd.min.js"
# a script or stylesheet from another host: http://, https:// or protocol-relative //
EXTERNAL = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE),
]


def test_chart_js_is_vendored_and_found_by_the_static_files_finder():
    path = finders.find(CHART_JS)
    assert path, f"{CHART_JS} not found by the static files finders"
    head = Path(path).read_text(encoding="utf-8")[:200]
    assert "Chart.js v4." in head and "MIT" in head
    assert finders.find("vendor/chartjs/LICENSE.md")


def test_no_template_or_stylesheet_loads_a_script_or_style_from_another_host():
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]] + [Path(d) for d in settings.STATICFILES_DIRS]
    files = [p for root in roots for p in root.rglob("*") if p.suffix in {".html", ".css"}]
    assert any(p.name == "base.html" for p in files)
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}"
        for path in files
        for pattern in EXTERNAL
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_production_static_files_collect_with_hashed_names(tmp_path):
    # ManifestStaticFilesStorage follows the sourceMappingURL at the end of the vendored script: the map must be there.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert list(tmp_path.glob("vendor/chartjs/chart.umd.min.*.js"))
