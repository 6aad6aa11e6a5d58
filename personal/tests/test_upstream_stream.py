"""UpstreamStream reads a streamed body in the relay's own wait: it never blocks in a read whose bytes are not in,
whatever way upstream's chunks are split, and it notices the client's end in the same wait."""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from personal.client import ChatOpened
from personal.stream import EventRelay, RelayLimits
from personal.transport import BoundedSession, StreamBroken, UpstreamStream

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
# The same answer from an upstream that closes the connection after it (http.client then lets go of the socket).
CLOSING_HEAD = HEAD[:-2] + b"Connection: close\r\n\r\n"
WAIT = 0.3  # the relay's time-out in these tests; a read that blocked would take the whole pause instead
PAUSE = 3.0


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@contextlib.contextmanager
def scripted_upstream(head: bytes = HEAD) -> Iterator[tuple[UpstreamStream, socket.socket]]:
    """A stream opened on a raw server; the test writes the body's bytes itself, split as it likes."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        connection, _ = listener.accept()
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(4096)
        connection.sendall(head)
        accepted.append(connection)

    server = threading.Thread(target=accept, daemon=True)
    server.start()
    session = BoundedSession(pool_size=2, connect_timeout=5, max_body_bytes=1 << 20, headers={})
    stream = session.open("POST", f"http://127.0.0.1:{listener.getsockname()[1]}/chat", seconds=30, data=b"{}")
    server.join(5)
    try:
        yield stream, accepted[0]
    finally:
        stream.close()
        accepted[0].close()
        listener.close()
        session.close()


def timed_read(stream: UpstreamStream, timeout: float = WAIT) -> tuple[bytes | None, float]:
    started = time.monotonic()
    data = stream.read(timeout=timeout)
    return data, time.monotonic() - started


def later(seconds: float, connection: socket.socket, data: bytes) -> None:
    threading.Timer(seconds, connection.sendall, args=(data,)).start()


def test_a_chunk_whose_closing_crlf_came_with_it_leaves_the_next_wait_to_the_time_out_not_to_the_next_chunk():
    with scripted_upstream() as (stream, upstream):
        upstream.sendall(chunk(b"event: delta\n\n"))
        assert stream.read(timeout=5) == b"event: delta\n\n"
        later(PAUSE, upstream, chunk(b"event: done\n\n"))

        data, waited = timed_read(stream)

        assert data is None
        assert waited < PAUSE / 2
        assert stream.read(timeout=PAUSE * 2) == b"event: done\n\n"


@pytest.mark.parametrize(
    "missing", [1, -1, -2], ids=["the_closing_crlfs_last_byte", "the_size_lines_end", "the_size_lines_crlf"]
)
def test_a_chunk_frame_split_anywhere_is_read_whole_and_no_read_waits_on_the_missing_part(missing):
    first, second = chunk(b"one"), chunk(b"two")
    cut = len(first) - 1 if missing == 1 else len(first) + len(b"3\r\n") + missing
    body = first + second
    with scripted_upstream() as (stream, upstream):
        upstream.sendall(body[:cut])
        assert stream.read(timeout=5) == b"one"
        time.sleep(0.1)

        data, waited = timed_read(stream)
        assert data is None
        assert waited < PAUSE / 2

        upstream.sendall(body[cut:])
        assert stream.read(timeout=5) == b"two"


def test_chunks_already_buffered_are_read_one_after_another_without_waiting():
    with scripted_upstream() as (stream, upstream):
        upstream.sendall(b"".join(chunk(b"%d" % n) for n in range(5)) + b"0\r\n\r\n")
        time.sleep(0.1)

        read = [stream.read(timeout=0) for _ in range(6)]

        assert read == [b"0", b"1", b"2", b"3", b"4", b""]


def test_the_clients_end_ends_the_wait_at_once_and_says_so():
    client, server_side = socket.socketpair()
    with scripted_upstream() as (stream, _upstream):
        stream.watch_client(server_side)
        threading.Timer(0.2, client.close).start()

        data, waited = timed_read(stream, timeout=PAUSE)

        assert data is None
        assert stream.client_gone
        assert waited < PAUSE / 2
    server_side.close()


def test_a_client_that_sends_early_is_not_taken_for_gone_and_the_stream_goes_on():
    client, server_side = socket.socketpair()
    with scripted_upstream() as (stream, upstream):
        stream.watch_client(server_side)
        client.sendall(b"GET /next HTTP/1.1\r\n")
        later(0.3, upstream, chunk(b"delta"))

        woken, waited = timed_read(stream, timeout=PAUSE)
        assert (woken, stream.client_gone) == (None, False)
        assert waited < PAUSE / 2
        assert stream.read(timeout=PAUSE) == b"delta"
        assert server_side.recv(64, socket.MSG_PEEK) == b"GET /next HTTP/1.1\r\n"  # left for the server to read
    client.close()
    server_side.close()


def test_an_upstream_that_closes_after_the_stream_is_still_waited_on_with_the_time_out_and_the_clients_end():
    client, server_side = socket.socketpair()
    with scripted_upstream(CLOSING_HEAD) as (stream, upstream):
        stream.watch_client(server_side)
        upstream.sendall(chunk(b"event: delta\n\n"))
        assert stream.read(timeout=5) == b"event: delta\n\n"

        silent, waited = timed_read(stream)  # upstream says nothing more
        threading.Timer(0.2, client.close).start()
        gone, waited_for_the_client = timed_read(stream, timeout=PAUSE)

        assert (silent, gone, stream.client_gone) == (None, None, True)
        assert waited < PAUSE / 2 and waited_for_the_client < PAUSE / 2
    server_side.close()


def test_upstream_closing_mid_chunk_is_a_broken_stream():
    with scripted_upstream() as (stream, upstream):
        upstream.sendall(b"10\r\nonly")
        assert stream.read(timeout=5) == b"only"
        upstream.close()

        with pytest.raises(StreamBroken):
            stream.read(timeout=5)


def _keep_alive_upstream(answers: list[bytes], end_after: float) -> tuple[socket.socket, list[int], threading.Thread]:
    """A raw upstream that answers each call on one connection with `answers`' body, then sends the terminating
    chunk `end_after` seconds later, in a separate write as servers do (0: with the body, in one write). Counts
    the connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[int] = []

    def serve() -> None:
        connection, _ = listener.accept()
        connections.append(1)
        with connection:
            for body in answers:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(4096)
                if not end_after:
                    connection.sendall(HEAD + chunk(body) + b"0\r\n\r\n")
                    continue
                connection.sendall(HEAD + chunk(body))
                time.sleep(end_after)
                connection.sendall(b"0\r\n\r\n")

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    return listener, connections, server


@pytest.mark.parametrize(("end_after", "end_within"), [(0, 0), (0.05, 2)], ids=["already_in", "just_after"])
def test_a_stream_closed_after_its_last_event_hands_its_connection_back_for_the_next_call(end_after, end_within):
    listener, connections, server = _keep_alive_upstream([b"event: done\n\n"] * 2, end_after=end_after)
    session = BoundedSession(pool_size=2, connect_timeout=5, max_body_bytes=1 << 20, headers={})
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/chat"
    try:
        for _ in range(2):
            stream = session.open("POST", url, seconds=10, data=b"{}")
            assert stream.read(timeout=5) == b"event: done\n\n"
            if end_within:
                stream.close(end_within=end_within)
            else:
                time.sleep(0.1)  # the terminating chunk is in
                stream.close()
        server.join(5)
    finally:
        session.close()
        listener.close()

    assert connections == [1]


def test_the_relay_ends_a_done_stream_after_its_client_has_the_last_event_and_keeps_upstreams_connection():
    done = b'event: done\ndata: {"message_id": "m1", "reply": "hi"}\n\n'
    listener, connections, server = _keep_alive_upstream([done] * 2, end_after=0.05)
    session = BoundedSession(pool_size=2, connect_timeout=5, max_body_bytes=1 << 20, headers={})
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/chat"
    limits = RelayLimits(keepalive_seconds=5, gap_seconds=5, gives_up_at=time.monotonic() + 30, max_event_bytes=4096)
    endings = []
    try:
        for _ in range(2):
            relay = EventRelay(ChatOpened(events=session.open("POST", url, seconds=10, data=b"{}")), limits=limits,
                               on_end=endings.append)  # fmt: skip
            events = list(relay)
            relay.close()
        server.join(5)
    finally:
        session.close()
        listener.close()

    assert events[-1].startswith(b"event: done\n")
    assert endings == ["done", "done"]
    assert connections == [1]
