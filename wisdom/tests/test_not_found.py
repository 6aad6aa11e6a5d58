"""An unknown route is a JSON 404 even under DEBUG (`make run`), where Django would answer an HTML page
listing every route; the admin keeps Django's own pages."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_route_is_a_json_404_even_under_debug(settings, debug, method):
    settings.DEBUG = debug  # `make run` runs with DJANGO_DEBUG=true: Django would answer its HTML route list
    client = APIClient(enforce_csrf_checks=True)  # as a real client: an unsafe method is not a CSRF 403

    response = getattr(client, method)("/no/such/route")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_the_admin_keeps_its_own_pages_under_debug(api_client, settings):
    settings.DEBUG = True

    response = api_client.get("/admin/no-such-page/")

    assert response.status_code == 302  # Django admin's catch-all: to the login page, not a JSON 404
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_probe_called_with_another_method_is_a_json_405(path):
    response = APIClient(enforce_csrf_checks=True).post(path)

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
