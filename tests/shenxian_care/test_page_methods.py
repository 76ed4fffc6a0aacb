"""A page is read with GET and written with a form's POST: another method is refused (405), never run as a GET."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
@pytest.mark.parametrize("name", ["portal:home", "billing:settlement_list", "recipients:recipient_list", "login"])
def test_a_page_refuses_methods_other_than_get_and_post(client_as, bureau_user, method, name):
    response = getattr(client_as(bureau_user), method)(reverse(name))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert "不支持" in response.content.decode()


def test_the_api_still_answers_the_methods_it_takes(api_as, bureau_user):
    api = api_as(bureau_user)
    assert api.options("/api/v1/recipients/").status_code == 200
    assert api.delete("/api/v1/recipients/").status_code == 405  # DRF's own answer: a list is not deleted
