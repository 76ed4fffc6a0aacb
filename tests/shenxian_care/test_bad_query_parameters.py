"""Every portal page answers bad query parameters (letters for an id, a NUL byte, a huge number, a month that
does not exist) without a server error."""

import pytest
from django.urls import URLResolver, get_resolver

BAD = ["a\x00b", "99999999999999999999", "2026-13-45"]
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
