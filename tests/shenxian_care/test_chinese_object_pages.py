"""Chinese on every page that names an object, too: the bureau, whose browser asks for English, opens every portal
URL with a real object in its arguments (the permission matrix's county: a roster preview, a spot-check draw, a
cross-check batch, a half-year review, a takeover and its report, a settlement's pages...) and meets no English
label from Django or a library."""

import pytest

from tests.shenxian_care.test_chinese_only import english_on
from tests.test_permission_matrix import county, portal_urls  # noqa: F401  (county: the module's world)

pytestmark = pytest.mark.django_db

# pages a clerk reads that the walk of pages without arguments never reached
MUST_OPEN = {
    "recipients:roster_preview",
    "supervision:spot_check_draw_detail",
    "supervision:crosscheck_batch",
    "supervision:review_detail",
    "supervision:takeover",
    "supervision:takeover_report",
    "billing:settlement_detail",
    "contracts:agreement_detail",
    "recipients:recipient_detail",
}


def test_every_object_page_is_chinese_to_an_english_browser(county, client):  # noqa: F811
    client.force_login(county.bureau)
    opened, english = set(), {}
    for name, url, _kind in portal_urls(county):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code < 500, url
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        opened.add(name)
        if found := english_on(response):
            english[url] = found
    assert english == {}
    assert opened >= MUST_OPEN, sorted(MUST_OPEN - opened)
