"""An answer's headers leave with the first piece of its body: gunicorn's own writer, through the worker's
handle_request, onto a socket that records each send."""

import io
import logging
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from wisdom.gunicorn_worker import DrainingGeventWorker


class RecordingSocket:
    def __init__(self) -> None:
        self.sends: list[bytes] = []
        self.shut = False

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))

    def send(self, data: bytes) -> int:
        self.sends.append(bytes(data))
        return len(data)

    def sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
        file.seek(offset)
        data = file.read(count)
        self.sends.append(b"<sendfile>" + data)
        return len(data)

    def shutdown(self, how: int) -> None:
        self.shut = True

    def close(self) -> None:
        self.shut = True


def _worker(app) -> DrainingGeventWorker:
    worker = DrainingGeventWorker.__new__(DrainingGeventWorker)
    worker.cfg = Config()
    worker.wsgi = app
    worker.log = SimpleNamespace(access=lambda *a: None, exception=logging.getLogger("worker").exception,
                                 info=lambda *a: None, debug=lambda *a: None)  # fmt: skip
    worker.nr, worker.max_requests, worker.alive = 0, 1_000_000, True
    worker._fresh, worker._answering = set(), 0
    return worker


def _answer(app, request: bytes = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n") -> RecordingSocket:
    cfg = Config()
    req = next(RequestParser(cfg, io.BytesIO(request), ("127.0.0.1", 5)))
    client = RecordingSocket()
    try:
        _worker(app).handle_request(("127.0.0.1", 8000), req, client, ("127.0.0.1", 5))
    except StopIteration:
        pass  # the connection ends with this answer
    return client


def test_a_one_piece_answer_leaves_in_one_send_headers_and_body_together():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "12")])
        return [b'{"ok": true}']

    client = _answer(app)

    assert len(client.sends) == 1
    head, _, body = client.sends[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b'{"ok": true}'


def test_a_streamed_answer_sends_its_headers_with_the_first_piece_and_each_later_piece_at_once():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b": open\n\n"
        yield b"event: delta\n\n"

    client = _answer(app)

    head, _, first_piece = client.sends[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and first_piece == b"8\r\n: open\n\n\r\n"
    assert client.sends[1:] == [b"E\r\nevent: delta\n\n\r\n", b"0\r\n\r\n"]


@pytest.mark.parametrize("request_line", [b"HEAD /x HTTP/1.1", b"GET /x HTTP/1.1"])
def test_an_answer_without_a_body_still_sends_its_headers(request_line):
    def app(environ, start_response):
        start_response("204 No Content", [])
        return []

    client = _answer(app, request_line + b"\r\nHost: t\r\n\r\n")

    assert len(client.sends) == 1 and client.sends[0].startswith(b"HTTP/1.1 204 No Content\r\n")


def test_an_answer_that_fails_after_its_headers_sends_nothing_rather_than_half_an_answer():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield "not bytes"  # gunicorn writes the headers, then refuses this piece

    client = _answer(app)

    assert client.sends == [] and client.shut


def test_interim_answers_are_never_held():
    def app(environ, start_response):
        environ["wsgi.input"].read()  # the body: gunicorn answers the expectation first
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    client = _answer(app, b"POST /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")

    assert client.sends[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert len(client.sends) == 2 and client.sends[1].endswith(b"\r\n\r\nok")


def test_a_file_answer_sends_its_headers_before_the_file_goes_out_by_sendfile(tmp_path):
    static = tmp_path / "app.css"
    static.write_bytes(b"body { color: black }")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/css"), ("Content-Length", "21")])
        return environ["wsgi.file_wrapper"](static.open("rb"))

    client = _answer(app)

    assert len(client.sends) == 2
    assert client.sends[0].startswith(b"HTTP/1.1 200 OK\r\n") and client.sends[0].endswith(b"\r\n\r\n")
    assert client.sends[1] == b"<sendfile>body { color: black }"
