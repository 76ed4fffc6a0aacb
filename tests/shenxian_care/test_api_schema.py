import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_generates_cleanly(tmp_path):
    # --fail-on-warn: an endpoint whose schema drf-spectacular has to guess fails here, not in a client.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/recipients/" in text and "/api/v1/agreements/" in text


@pytest.mark.django_db
def test_schema_and_docs_are_served_to_signed_in_users(client_as, bureau_user):
    client = client_as(bureau_user)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()  # the county network may be closed: served locally


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_send_someone_not_signed_in_to_the_sign_in_page_and_back(client, bureau_user, url):
    # a newcomer opens the address `make run` prints before signing in: the sign-in page, not a bare English 401
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={url}"
    signed_in = client.post(response.url, {"username": bureau_user.username, "password": "Shenxian-2026-pass"})
    assert signed_in.status_code == 302 and signed_in.url == url
    assert client.get(url).status_code == 200
