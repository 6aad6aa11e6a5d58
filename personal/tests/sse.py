"""Reading a text/event-stream body in tests: events as (name, data) pairs, comments as ("comment", text)."""

import json


def parse_events(body: bytes, *, comments: bool = False) -> list[tuple[str, object]]:
    events = []
    for block in body.decode().split("\n\n"):
        if not block:
            continue
        name, data = "message", None
        for line in block.split("\n"):
            if line.startswith(":"):
                if comments:
                    events.append(("comment", line[1:].strip()))
            elif line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
        if data is not None:
            events.append((name, data))
    return events


def names(events: list[tuple[str, object]]) -> list[str]:
    return [name for name, _ in events]


def hang_up(response) -> None:
    """What the server does when its write to a gone client fails: close the response (and so its iterator).

    As Django's test client does, without closing the test's database connection (request_finished would)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
