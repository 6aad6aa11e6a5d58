"""A chat streamed as Server-Sent Events: wisdom in-process, the agents double streaming over real HTTP.

What needs gunicorn (the server's write failing on a gone client, the access line, the thread, no database
connection, limits across workers, a browser) is in tests/test_streaming.py.
"""

import json
import time

import pytest

from personal.stream import OPENED
from personal.tests.sse import hang_up, names, parse_events
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db

URL = "/personal/entities/ada/messages"
FAILED = {"detail": "The agents service failed; try again later.", "status": 502}
TIMED_OUT = {"detail": "The agents service did not answer in time.", "status": 504}


@pytest.fixture
def ada(api_client, user, agents_double):
    created = api_client.post("/personal/entities", {"name": "ada"}, format="json", headers=bearer(user))
    assert created.status_code == 201
    agents_double.clear_received()


def _stream(api_client, user, content="hello there", url=URL, headers=None):
    return api_client.post(
        url,
        {"content": content},
        format="json",
        headers={**bearer(user), "Accept": "text/event-stream", **(headers or {})},
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)  # the test client closes the response at the end


def _wait_for(predicate, seconds=10.0):
    """A generous bound on a wait, never a timed assertion."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


# --- the relay ------------------------------------------------------------------------------------------


def test_a_streamed_reply_relays_each_delta_in_order_and_ends_with_done(api_client, user, ada, agents_double):
    response = _stream(api_client, user, "hello there", headers={"X-Request-ID": "trace-stream-1"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    events = parse_events(_body(response))
    assert events[:-1] == [("delta", {"text": t}) for t in ("You ", "said: ", "hello ", "there")]
    name, done = events[-1]
    assert name == "done" and done == {"message_id": done["message_id"], "reply": "You said: hello there"}
    [call] = agents_double.received()
    assert (call["method"], call["path"], json.loads(call["body"])) == (
        "POST",
        "/entities/ada/chat",
        {"content": "hello there"},
    )
    assert call["headers"]["Accept"] == "text/event-stream"
    assert call["headers"]["X-User-Id"] == str(user.pk)
    assert call["headers"]["X-Request-ID"] == "trace-stream-1"
    assert agents_double.streams()[0]["outcome"] == "done"


def test_done_carries_the_same_object_as_the_non_streaming_201(api_client, user, ada, agents_double):
    whole = api_client.post(URL, {"content": "same"}, format="json", headers=bearer(user))
    [(_, done)] = [event for event in parse_events(_body(_stream(api_client, user, "same"))) if event[0] == "done"]

    assert whole.status_code == 201
    assert set(done) == set(whole.json()) == {"message_id", "reply"}
    assert done["reply"] == whole.json()["reply"]
    assert done["message_id"] != whole.json()["message_id"]  # two messages, each with its own id


def test_each_delta_reaches_the_client_before_upstream_sends_the_next(api_client, user, ada, agents_double):
    agents_double.switch(stream_step=True)  # each delta after the first waits for the test to move the switches
    response = _stream(api_client, user, "one two three")
    chunks = iter(response.streaming_content)
    try:
        assert next(chunks) == OPENED
        for expected, released in (("You ", 1), ("said: ", 2), ("one ", 3), ("two ", 4)):
            assert parse_events(next(chunks)) == [("delta", {"text": expected})]
            assert agents_double.streams()[0]["deltas_sent"] == released  # upstream has not sent the next one yet
            agents_double.switch(stream_step=True)  # release the next delta
        assert parse_events(next(chunks)) == [("delta", {"text": "three"})]
        assert names(parse_events(next(chunks))) == ["done"]
    finally:
        hang_up(response)


def test_upstreams_unknown_events_ids_and_comments_are_dropped(api_client, user, ada, agents_double):
    agents_double.switch(stream_extra_events=True, stream_keepalive_ms=5, stream_delta_ms=30)

    body = _body(_stream(api_client, user, "a b c"))

    assert names(parse_events(body)) == ["delta"] * 5 + ["done"]
    assert b"usage" not in body and b"tokens" not in body and b"thinking" not in body and b"ping" not in body


def test_an_upstream_that_answers_json_is_relayed_as_one_delta_and_done(api_client, user, ada, agents_double):
    agents_double.switch(stream_mode="json")

    response = _stream(api_client, user, "hi")

    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream; charset=utf-8"
    events = parse_events(_body(response))
    assert events[0] == ("delta", {"text": "You said: hi"})
    assert events[1][0] == "done" and events[1][1]["reply"] == "You said: hi"
    assert len(events) == 2
    assert agents_double.streams() == []  # upstream answered 201 JSON


def test_accept_any_or_json_still_answers_201_json(api_client, user, ada, agents_double):
    for accept in ("*/*", "application/json", "text/*", "text/event-stream;q=0"):
        response = api_client.post(URL, {"content": "hi"}, format="json", headers={**bearer(user), "Accept": accept})
        assert response.status_code == 201, accept
        assert response.json()["reply"] == "You said: hi"
    assert {c["headers"].get("Accept") for c in agents_double.received()} == {"application/json"}


# --- errors before the first byte: today's statuses and JSON bodies -----------------------------------


def test_errors_before_the_stream_starts_answer_with_status_and_json(api_client, user, ada, agents_double):
    unknown = _stream(api_client, user, url="/personal/entities/nobody/messages")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Entity not found."})

    assert api_client.post("/personal/entities/ada/pause", headers=bearer(user)).status_code == 200
    paused = _stream(api_client, user)
    assert (paused.status_code, paused.json()) == (409, {"detail": "Entity is paused."})
    assert api_client.post("/personal/entities/ada/resume", headers=bearer(user)).status_code == 200

    agents_double.switch(fault="canned", fault_status=500, fault_body='{"detail": "sk-upstream-secret"}')
    failed = _stream(api_client, user)
    assert (failed.status_code, failed.json()) == (502, {"detail": FAILED["detail"]})

    agents_double.switch(fault="down", fault_body="")
    down = _stream(api_client, user)
    assert (down.status_code, down.json()) == (502, {"detail": "The agents service is unreachable."})

    agents_double.switch(fault="canned", fault_status=429, fault_headers={"Retry-After": "7"})
    limited = _stream(api_client, user)
    assert (limited.status_code, limited["Retry-After"]) == (429, "7")


def test_a_request_refused_by_wisdom_never_reaches_upstream(api_client, user, ada, agents_double):
    anonymous = api_client.post(URL, {"content": "hi"}, format="json", headers={"Accept": "text/event-stream"})
    empty = _stream(api_client, user, "")

    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"
    assert empty.status_code == 400 and empty.json()["errors"] == {"content": ["This field may not be blank."]}
    assert agents_double.received() == []


def test_upstream_silent_before_its_headers_is_504_json(api_client, user, ada, agents_double, settings):
    settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = 0.3
    agents_double.switch(fault="hang")

    response = _stream(api_client, user)

    assert (response.status_code, response.json()) == (504, {"detail": TIMED_OUT["detail"]})


# --- errors after the first byte: an error event, and the stream ends -----------------------------------


def test_an_upstream_error_event_ends_the_stream_with_502_and_never_its_detail(api_client, user, ada, agents_double):
    agents_double.switch(stream_fault="error_event")

    body = _body(_stream(api_client, user))

    assert parse_events(body) == [("delta", {"text": "You "}), ("error", FAILED)]
    assert b"sk-live-upstream-secret" not in body and b"crashed" not in body


@pytest.mark.parametrize("fault", ["cut", "malformed", "no_done", "oversized_event"])
def test_a_stream_that_breaks_off_ends_with_a_502_error_event(api_client, user, ada, agents_double, settings, fault):
    settings.INTUNO_AGENTS_MAX_RESPONSE_BYTES = 4096
    agents_double.switch(stream_fault=fault, oversize_bytes=100_000)

    response = _stream(api_client, user)

    assert response.status_code == 200
    assert parse_events(_body(response)) == [("delta", {"text": "You "}), ("error", FAILED)]


def test_upstream_silent_past_the_gap_deadline_ends_with_504_and_upstream_is_closed(
    api_client, user, ada, agents_double, settings
):
    settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = 0.5
    agents_double.switch(stream_fault="silence")

    body = _body(_stream(api_client, user))

    assert parse_events(body) == [("delta", {"text": "You "}), ("error", TIMED_OUT)]
    assert _wait_for(lambda: agents_double.streams()[0]["outcome"]) == "client_gone"  # wisdom hung up


def test_the_total_deadline_ends_a_stream_that_keeps_sending(api_client, user, ada, agents_double, settings):
    settings.PERSONAL_STREAM_MAX_SECONDS = 0.6
    agents_double.switch(stream_deltas=200, stream_delta_ms=50)

    events = parse_events(_body(_stream(api_client, user, "x" * 400)))

    assert events[-1] == ("error", TIMED_OUT)
    assert set(names(events[:-1])) == {"delta"} and 1 <= len(events) - 1 < 200


def test_keep_alive_comments_go_out_while_upstream_is_silent(api_client, user, ada, agents_double, settings):
    settings.PERSONAL_STREAM_KEEPALIVE_SECONDS = 0.05
    agents_double.switch(stream_first_delta_ms=400, stream_delta_ms=400)

    events = parse_events(_body(_stream(api_client, user, "a b")), comments=True)

    kinds = names(events)
    assert kinds[0] == "comment" and kinds[-1] == "done"
    first, second = kinds.index("delta"), len(kinds) - 2
    assert "comment" in kinds[1:first] and "comment" in kinds[first + 1 : second]  # before and between deltas
    assert {text for name, text in events if name == "comment"} <= {"stream open", "keep-alive"}


def test_a_client_that_goes_away_closes_the_upstream_connection(api_client, user, ada, agents_double):
    agents_double.switch(stream_step=True)
    response = _stream(api_client, user)
    chunks = iter(response.streaming_content)
    assert next(chunks) == OPENED
    assert names(parse_events(next(chunks))) == ["delta"]

    hang_up(response)

    assert _wait_for(lambda: agents_double.streams()[0]["outcome"]) == "client_gone"
    assert agents_double.streams()[0]["deltas_sent"] == 1


def test_a_stopping_server_ends_a_stream_that_keeps_sending_with_a_503_error_at_its_drain_deadline(
    api_client, user, ada, agents_double, monkeypatch
):
    from wisdom import draining

    agents_double.switch(stream_deltas=200, stream_delta_ms=20)
    monkeypatch.setattr(draining, "_deadline", time.monotonic() + 0.5)  # as the worker's SIGTERM handler sets it

    events = parse_events(_body(_stream(api_client, user, "x" * 400)))

    assert events[-1] == ("error", {"detail": "The server is restarting; send the message again.", "status": 503})
    assert set(names(events[:-1])) == {"delta"} and 1 <= len(events) - 1 < 200
    assert _wait_for(lambda: agents_double.streams()[-1]["outcome"]) == "client_gone"  # upstream closed with it
