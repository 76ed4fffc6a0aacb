import logging

from tests.conftest import full_id_numbers_in

GOOD = "11010519491231002X"


def test_the_log_scanner_finds_a_full_id_and_ignores_masked_ones():
    assert full_id_numbers_in(f"GET /x?id={GOOD} 200") == [GOOD]
    assert full_id_numbers_in(f"GET /x?id={GOOD.lower()} 200") == [GOOD.lower()]
    assert full_id_numbers_in("3715**********457X and 110105194912310021 (bad check digit)") == []


def test_not_found_urls_are_logged_without_the_query_string(client, caplog):
    # Django logs the path of a 404, not its query string: a number typed into a search box stays out.
    with caplog.at_level(logging.WARNING):
        client.get(f"/no-such-page/?q={GOOD}")
    assert GOOD not in caplog.text
