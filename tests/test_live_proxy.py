"""The committed nginx config (deploy/nginx) in front of a small recording upstream: what reaches a replica.

A recording upstream rather than wisdom, so each test sees exactly the headers and body nginx passed on.
"""

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.helpers.nginx import nginx_proxy, requires_nginx
from tests.helpers.processes import free_port

pytestmark = [pytest.mark.live, requires_nginx]

HEX_REQUEST_ID = r"[0-9a-f]{32}"


class Recorder(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), RecordingHandler)
        self.received: list[dict] = []
        self.release_stream = threading.Event()


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format, *args):
        pass

    def _record(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body_bytes": len(body)}
        self.server.received.append(seen)
        return seen

    def _answer(self, seen: dict) -> None:
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        seen = self._record()
        if self.path.startswith("/events"):
            return self._stream(unbuffered="unbuffered" in self.path)
        self._answer(seen)

    def do_POST(self):
        self._answer(self._record())

    def _stream(self, *, unbuffered: bool) -> None:
        """A text/event-stream that sends one event, then holds until released (5 s at most)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if unbuffered:
            self.send_header("X-Accel-Buffering", "no")  # what wisdom adds to every text/event-stream answer
        self.end_headers()
        self.wfile.write(b"data: first\n\n")
        self.wfile.flush()
        self.server.release_stream.wait(timeout=5)
        self.wfile.write(b"data: last\n\n")
        self.close_connection = True


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release_stream.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy(tmp_path, recorder):
    with nginx_proxy(tmp_path, [f"127.0.0.1:{recorder.server_port}"], body_max_bytes=1000) as proxy:
        recorder.received.clear()  # nginx's start-up check
        yield proxy


def test_a_replica_sees_the_client_in_x_forwarded_for_the_scheme_and_the_clients_request_id(proxy, recorder):
    response = requests.get(
        f"{proxy.url}/echo",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Request-ID": "client-id-42"},
        timeout=10,
    )

    headers = response.json()["headers"]
    assert response.status_code == 200
    # nginx appends the peer it saw: wisdom (NUM_PROXIES=1) trusts only that last entry, never the client's
    assert headers["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Request-ID"] == "client-id-42"
    assert proxy.access_lines(at_least=2)[-1]["request_id"] == "client-id-42"  # after nginx's start-up check


def test_a_missing_or_malformed_request_id_is_replaced_by_one_of_nginxs_own(proxy, recorder):
    requests.get(f"{proxy.url}/echo", timeout=10)
    requests.get(f"{proxy.url}/echo", headers={"X-Request-ID": "not a <sane> id"}, timeout=10)

    ids = [seen["headers"]["X-Request-ID"] for seen in recorder.received]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert [line["request_id"] for line in proxy.access_lines(at_least=3)[-2:]] == ids


def test_a_chunked_body_reaches_the_replica_whole_with_a_content_length(proxy, recorder):
    def chunks():
        yield b'{"part": 1,'
        yield b' "part2": 2}'

    response = requests.post(f"{proxy.url}/echo", data=chunks(), timeout=10)

    seen = response.json()
    assert response.status_code == 200
    assert seen["body_bytes"] == len(b'{"part": 1, "part2": 2}')
    assert seen["headers"]["Content-Length"] == str(seen["body_bytes"])
    assert "Transfer-Encoding" not in seen["headers"]


def test_a_body_over_the_limit_is_refused_by_nginx_in_wisdoms_shape_and_never_reaches_a_replica(proxy, recorder):
    response = requests.post(f"{proxy.url}/echo", data=b"x" * 1001, timeout=10)

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Request body is too large; the limit is 1000 bytes."}
    assert response.headers["X-Request-ID"]
    assert recorder.received == []


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?format=x"])
def test_metrics_is_never_routed_to_a_replica(proxy, recorder, path):
    response = requests.get(f"{proxy.url}{path}", timeout=10)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert recorder.received == []


def test_a_text_event_stream_marked_unbuffered_passes_through_as_it_comes(proxy, recorder):
    with requests.get(f"{proxy.url}/events?unbuffered", stream=True, timeout=10) as response:
        first = next(response.iter_lines())
        held_when_received = not recorder.release_stream.is_set()
        recorder.release_stream.set()

    assert first == b"data: first"
    assert held_when_received  # the first event arrived while the replica still held the stream open


def test_without_the_mark_nginx_buffers_a_stream_until_it_ends(proxy, recorder):
    def release_soon():
        time.sleep(1)
        recorder.release_stream.set()

    threading.Thread(target=release_soon, daemon=True).start()
    with requests.get(f"{proxy.url}/events", stream=True, timeout=10) as response:
        first = next(response.iter_lines())
        released_when_received = recorder.release_stream.is_set()

    assert first == b"data: first"
    assert released_when_received  # why wisdom marks every text/event-stream answer X-Accel-Buffering: no


def test_with_every_replica_down_nginx_answers_502_in_wisdoms_shape(tmp_path):
    with nginx_proxy(tmp_path, [f"127.0.0.1:{free_port()}"]) as proxy:
        response = requests.get(f"{proxy.url}/auth/me", timeout=10)

    assert response.status_code == 502
    assert response.json() == {"detail": "The service is unavailable; try again shortly."}
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-Request-ID"]


def test_a_replica_that_refuses_connections_is_skipped_and_its_requests_go_to_another(tmp_path, recorder):
    down = f"127.0.0.1:{free_port()}"
    with nginx_proxy(tmp_path, [down, f"127.0.0.1:{recorder.server_port}"]) as proxy:
        statuses = [requests.get(f"{proxy.url}/echo", timeout=10).status_code for _ in range(10)]
        statuses += [requests.post(f"{proxy.url}/echo", json={"n": i}, timeout=10).status_code for i in range(10)]
        tried_down = [address for address in proxy.upstreams_used() if address == down]

    assert statuses == [200] * 20  # a refused connection never carried the request: even a POST is retried
    assert 1 <= len(tried_down) <= 2  # then it is left alone for fail_timeout (passive health check)


def test_a_client_that_sends_its_headers_too_slowly_is_cut_off_by_nginx_and_never_reaches_a_replica(tmp_path, recorder):
    with nginx_proxy(tmp_path, [f"127.0.0.1:{recorder.server_port}"]) as proxy:
        recorder.received.clear()  # nginx's start-up check
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=20) as slow:
            slow.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            try:
                answer = slow.recv(1024)  # nginx resets it at client_header_timeout (10 s)
            except ConnectionResetError:
                answer = b""
            waited = time.monotonic() - started

    assert answer == b""
    assert 5 < waited < 15
    assert recorder.received == []
