"""Malformed requests through the committed nginx config (deploy/nginx), sent as raw bytes: each is answered by
nginx in wisdom's JSON shape (never its HTML pages) and never reaches a replica."""

import http.client
import http.server
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.helpers.nginx import NginxProxy, nginx_proxy, requires_nginx
from tests.helpers.processes import free_port

pytestmark = [pytest.mark.live, requires_nginx]

MALFORMED = {"detail": "Malformed request.", "errors": {"non_field_errors": ["Malformed request."]}}
# A TLS ClientHello's first bytes: a client speaking TLS to the plain port.
TLS_HELLO = bytes.fromhex("16030100a5010000a10303") + bytes(range(32)) + b"\x00\x00\x02\x13\x01\x01\x00"
LONG_URI = b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"

CASES = {
    "a request line that is none": (b"GARBAGE\r\n\r\n", 400, MALFORMED),
    "a NUL in the path": (b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, MALFORMED),
    "a path climbing above the root": (b"GET /../x HTTP/1.1\r\nHost: x\r\n\r\n", 400, MALFORMED),
    "an asterisk target": (b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, MALFORMED),
    "a lower-case method": (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 400, MALFORMED),
    "a method with a symbol": (b"PO$T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, MALFORMED),
    "TLS bytes on the plain port": (TLS_HELLO, 400, MALFORMED),
    "a 70 kB URI": (LONG_URI, 414, {"detail": "Request line is too long."}),
    "HTTP/2.0 in the request line": (
        b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, {"detail": "HTTP version not supported; use HTTP/1.1."},
    ),
    "a transfer coding other than chunked": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
        {"detail": "Transfer-Encoding not supported; send the body with Content-Length or chunked."},
    ),
}  # fmt: skip


class _Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True
    received: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Upstream

    def log_message(self, format, *args):
        pass

    def _answer(self):
        self.server.received.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _answer


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream(("127.0.0.1", free_port()), _Handler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy(tmp_path, upstream) -> Iterator[NginxProxy]:
    with nginx_proxy(tmp_path, [f"127.0.0.1:{upstream.server_port}"]) as proxy:
        upstream.received.clear()  # nginx's start-up check
        yield proxy


def _send_raw(proxy: NginxProxy, raw: bytes) -> http.client.HTTPResponse:
    host, port = proxy.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    try:
        sock.sendall(raw)
    except OSError:  # nginx may answer and close before it has read everything
        pass
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.body = response.read()
    sock.close()
    return response


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_request_is_answered_by_nginx_in_wisdoms_json_shape(proxy, upstream, case):
    raw, status, body = CASES[case]

    response = _send_raw(proxy, raw)

    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(response.body) == body
    assert response.getheader("X-Request-ID")
    assert upstream.received == []


def test_the_error_answers_cannot_be_asked_for_from_outside(proxy, upstream):
    response = _send_raw(proxy, b"GET /_nginx-error/500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    assert response.status == 404
    assert json.loads(response.body) == {"detail": "Not found."}


def test_a_well_formed_request_still_reaches_a_replica(proxy, upstream):
    response = _send_raw(proxy, b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    assert (response.status, response.body) == (200, b"{}")
    assert upstream.received == ["GET /echo"]
