import pytest

from tests.helpers.bodies import bad_request

pytestmark = pytest.mark.django_db


def test_a_chunked_body_is_411_not_read_as_empty(api_client):
    response = api_client.post(
        "/auth/login", data=b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )

    assert response.status_code == 411
    assert response.json() == {"detail": "A request body needs a Content-Length header."}


def test_a_declared_body_over_the_limit_is_413_before_it_is_read(api_client, settings):
    response = api_client.post("/auth/login", data=b"{}", content_type="application/json", CONTENT_LENGTH="2000000")

    assert response.status_code == 413


def test_a_non_numeric_content_length_is_400(api_client):
    response = api_client.post("/auth/login", data=b"{}", content_type="application/json", CONTENT_LENGTH="abc")

    assert response.status_code == 400
    assert response.json() == bad_request("Content-Length header is not a number.")


def test_a_database_that_cannot_serve_in_time_is_503_with_retry_after(api_client, user):
    from unittest import mock

    from django.db import OperationalError
    from psycopg_pool import PoolTimeout

    from tests.helpers.auth import bearer

    headers = bearer(user)
    timed_out = OperationalError("couldn't get a connection after 10.00 sec")
    timed_out.__cause__ = PoolTimeout("couldn't get a connection after 10.00 sec")  # as Django wraps psycopg's
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection", side_effect=timed_out):
        response = api_client.get("/auth/me", headers=headers)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The service is busy; try again shortly."}


def test_a_request_id_ending_in_a_newline_is_replaced_not_echoed():
    from wisdom.request_context import request_id_from_header

    assert request_id_from_header("abc\n") != "abc\n"
    assert request_id_from_header("abc") == "abc"
