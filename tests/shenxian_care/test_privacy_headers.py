"""Responses with people's data leave no copy in a cache, forms that take ID numbers keep them out of error
reports, and no page may use a device but the position the caregivers' check-in needs."""

import pytest
from django.urls import reverse

from shenxian_care.actions import api_token_issue


def no_store(response):
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/portal/", "/portal/recipients/", "/admin/", "/admin/recipients/recipient/", "/api/v1/recipients/"],
)
def test_every_answer_to_a_signed_in_person_is_no_store(client, bureau_user, url):
    client.force_login(bureau_user)
    response = client.get(url)
    assert response.status_code == 200
    assert no_store(response), response.get("Cache-Control")


@pytest.mark.django_db
def test_an_api_answer_to_a_phones_token_is_no_store(api_client, caregiver_user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=caregiver_user).key}")
    response = api_client.get("/api/v1/recipients/")
    assert response.status_code == 200 and no_store(response)


@pytest.mark.django_db
def test_the_caregivers_page_is_no_store_too(client, caregiver_user):
    client.force_login(caregiver_user)
    response = client.get(reverse("services:caregiver_day"))
    assert response.status_code == 200 and no_store(response)


@pytest.mark.django_db
def test_every_response_carries_the_permissions_policy(client, caregiver_user):
    for response in (client.get(reverse("login")), client.get("/api/v1/recipients/")):
        policy = response["Permissions-Policy"]
        assert "geolocation=(self)" in policy  # the caregivers' check-in records where it happened
        assert "camera=()" in policy and "microphone=()" in policy


@pytest.mark.django_db
def test_forms_that_take_id_numbers_keep_them_out_of_error_reports(client, provider_user, town_user):
    client.force_login(town_user)
    response = client.post(reverse("recipients:recipient_find"), {"id_number": "371522199001011234"})
    assert "id_number" in response.wsgi_request.sensitive_post_parameters
    response = client.post(reverse("services:gps_rules"), {"id_number": "371522199001011234"})
    assert "id_number" in response.wsgi_request.sensitive_post_parameters
    client.force_login(provider_user)
    response = client.post(reverse("contracts:caregiver_create"), {"id_number": "1", "password": "x"})
    assert {"id_number", "password", "bank_account_number"} <= set(response.wsgi_request.sensitive_post_parameters)


@pytest.mark.django_db
def test_the_admins_forms_keep_id_and_bank_numbers_out_of_error_reports(client, bureau_user):
    client.force_login(bureau_user)
    response = client.post("/admin/contracts/caregiver/add/", {"id_number": "371522199001011234"})
    assert {"id_number", "bank_account_number"} <= set(response.wsgi_request.sensitive_post_parameters)
