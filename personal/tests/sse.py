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
