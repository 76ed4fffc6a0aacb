"""Every date input with a default shows its value: an <input type="date"> takes only ISO (2026-12-02); Django's
zh-hans format (2026/12/02) would leave it blank in the browser. One place decides (shenxian_care/formats)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

DATE_INPUT = re.compile(r"<input[^>]*type=\"date\"[^>]*>")
VALUE = re.compile(r'value="([^"]*)"')


def date_values(html):
    return [m.group(1) for tag in DATE_INPUT.findall(html) if (m := VALUE.search(tag))]


@pytest.mark.parametrize(
    "role, url_name",
    [
        ("bureau_user", "supervision:complaint_create"),
        ("bureau_user", "supervision:spot_check_draw"),
        ("town_user", "supervision:problem_report"),
    ],
)
def test_a_date_field_with_a_default_shows_today_in_iso_on_the_page(request, client_as, role, url_name):
    user = request.getfixturevalue(role)
    page = client_as(user).get(reverse(url_name)).content.decode()
    values = date_values(page)
    assert timezone.localdate().isoformat() in values
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values), values
