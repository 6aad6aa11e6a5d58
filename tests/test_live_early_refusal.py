"""A request refused before its body is read (413 too large, 411 chunked, 400 a bad Content-Length) leaves
that body on the connection: the answer says `Connection: close` and the server really closes, so no
client reuses the connection and has its next request read out of the unread body."""

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Longer than it takes to close, shorter than gunicorn's 5 s wait for a body it would drain and keep.
CLOSE_WITHIN_SECONDS = 3.0

HEAD = "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
EARLY_REFUSALS = {
    "too-large": (HEAD + "Content-Length: 2000000\r\n\r\n" + '{"email": "' + "a" * 4000, 413),
    "chunked": (HEAD + "Transfer-Encoding: chunked\r\n\r\n" + "400\r\n" + '{"email": "' + "a" * 500, 411),
    "bad-length": (HEAD + "Content-Length: abc\r\n\r\n{}", 400),
}


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    """Status, headers (lower-cased names) and body of one response, leaving the socket open."""
    response = http.client.HTTPResponse(sock, method="POST")
    response.begin()
    body = response.read()
    return response.status, {name.lower(): value for name, value in response.getheaders()}, body


@pytest.mark.parametrize("case", EARLY_REFUSALS)
def test_an_early_refusal_says_connection_close_and_closes_the_connection(wisdom_live, case):
    request, expected_status = EARLY_REFUSALS[case]
    address = urlsplit(wisdom_live.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status, headers, body = read_response(sock)
        sock.settimeout(CLOSE_WITHIN_SECONDS)
        try:
            after = sock.recv(65536)
        except TimeoutError:
            after = "still open"

    assert status == expected_status, body
    assert headers["connection"] == "close"
    assert after == b""
    if status != 400:  # wisdom's own JSON; a bad Content-Length is refused by gunicorn itself
        assert json.loads(body)["detail"]


def test_a_fresh_connection_after_an_early_refusal_is_served(wisdom_live):
    address = urlsplit(wisdom_live.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(EARLY_REFUSALS["too-large"][0].encode())
        read_response(sock)

    login = requests.post(f"{wisdom_live.url}/auth/login", json={"email": "a@example.com", "password": "x"}, timeout=10)

    assert login.status_code == 401
