"""Journey 5, the bureau on the pages written by others, under the portal's Content-Security-Policy: the admin
(a date picker, an autocomplete, an "add another" pop-up), the API docs (Swagger UI, ReDoc), DRF's browsable API,
and the printable agreement whose print button used to be an inline onclick. The desk fixture fails the journey
on anything the policy refuses."""

import pytest

from contracts.models import Agreement

from .conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# ReDoc's sidebar asks for its maker's logo from cdn.redoc.ly. The policy refuses it (nothing comes from another
# host), and ReDoc leaves the logo out.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_bureau_uses_the_admin_the_api_docs_and_prints_an_agreement(demo, desk):
    page = desk
    sign_in(page, "bureau")

    # the printable agreement: 打印 prints (window.print stubbed: headless Chromium has no print dialog)
    agreement = Agreement.objects.order_by("pk").first()
    page.goto(page.base + f"/portal/contracts/agreements/{agreement.pk}/print/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.printed") == 1
    shot(page, "policy-01-agreement-print")

    # the admin's own scripts: date picker, autocomplete, the "add another" pop-up
    page.goto(page.base + "/admin/recipients/recipient/add/")
    page.locator("a[id^=calendarlink]").first.click()
    page.wait_for_selector(".calendarbox", state="visible")
    page.locator(".calendarbox .calendar-shortcuts a").first.click()
    autocomplete = page.locator(".select2-selection").first
    autocomplete.click()
    page.wait_for_selector(".select2-results__option")
    page.keyboard.press("Escape")
    with page.expect_popup() as popup:
        page.locator("a.related-widget-wrapper-link.add-related").first.click()
    popup.value.wait_for_load_state()
    assert popup.value.locator("#content h1").count() == 1
    popup.value.close()
    shot(page, "policy-02-admin-add-recipient")

    # Swagger UI: drawn from its own script file
    page.goto(page.base + "/api/docs/")
    page.wait_for_selector(".opblock-summary-path")
    page.locator(".opblock-summary").first.click()
    page.wait_for_selector(".opblock-body")
    shot(page, "policy-03-swagger")

    # ReDoc: drawn with the inline styles and the search worker it is allowed on its page
    page.goto(page.base + "/api/redoc/")
    page.wait_for_selector("h1:has-text('API')")
    page.get_by_placeholder("Search...").fill("agreements")
    page.wait_for_selector("[data-role='search:results'] li")  # found by the search worker
    shot(page, "policy-04-redoc")
    refused = [v for v in page.csp_violations if REDOC_LOGO in v]
    assert refused, "ReDoc no longer asks for its logo from cdn.redoc.ly: drop REDOC_LOGO"
    page.csp_violations[:] = [v for v in page.csp_violations if REDOC_LOGO not in v]

    # DRF's browsable API
    page.goto(page.base + "/api/v1/recipients/")
    page.wait_for_selector(".response-info")
    shot(page, "policy-05-browsable-api")
