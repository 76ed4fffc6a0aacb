"""Every portal page answers bad query parameters (letters for an id, a NUL byte, a huge number, a month that
does not exist) without a server error."""

import pytest
from django.urls import URLResolver, get_resolver

BAD = ["a\x00b", "99999999999999999999", "2026-13-45", "²", "-1", "1.5"]
PARAMETERS = ["status", "half", "town", "provider", "month", "date", "draw", "recipient", "spot_check", "complaint",
              "serious_problem", "page", "q", "level", "in_support", "group", "kind", "settlement"]  # fmt: skip


def _pages(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _pages(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            route = prefix + str(pattern.pattern)
            if route.startswith("portal/") and "<" not in route and "download" not in route:
                yield "/" + route


PAGES = sorted(set(_pages(get_resolver().url_patterns)))


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_no_portal_page_errors_on_bad_query_parameters(client_as, bureau_user, town_user, page):
    for user in (bureau_user, town_user):
        client = client_as(user)
        for value in BAD:
            response = client.get(page, dict.fromkeys(PARAMETERS, value))
            assert response.status_code < 500, (page, user.username, repr(value), response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "query", "message"),
    [
        ("/portal/supervision/rectifications/new/", {"spot_check": "²"}, "参数“抽查记录”无效：请填写有效的编号"),
        ("/portal/supervision/rectifications/new/", {"complaint": "abc"}, "参数“投诉”无效：请填写有效的编号"),
        ("/portal/supervision/spot-checks/new/", {"draw": "²"}, "参数“抽样”无效：请填写有效的编号"),
        ("/portal/supervision/spot-checks/new/", {"recipient": "-1"}, "参数“特困人员”无效：请填写有效的编号"),
        ("/portal/services/report/", {"page": "²"}, "参数“页码”无效：页码应为正整数。"),
    ],
)
def test_a_bad_page_parameter_is_named_in_chinese_and_left_out(client_as, bureau_user, page, query, message):
    """The pages that read a parameter of their own (`?draw=`, `?spot_check=`, `?page=`) read it through a form:
    a bad value is a Chinese message on the page, which opens as if the parameter were not given."""
    response = client_as(bureau_user).get(page, query)
    assert response.status_code == 200
    assert message in response.content.decode()
