"""Streamed chats (`POST .../messages` with Accept: text/event-stream):

- first delta: how long after the double emits a stream's first delta the client has it, through wisdom vs
  straight from the double. Both ends read CLOCK_MONOTONIC (one clock for every process on the machine): the
  double records when it wrote the delta (GET /__streams, by X-Request-ID), the client when it parsed it;
- many streams at once: `streams` simultaneous chats, each `seconds` long (20 deltas, then done), all expected
  to complete; wisdom's resident memory per open stream and its CPU per relayed event.
"""

import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench import procs
from bench.target import ENTITY, Target
from tests.helpers.sse import EventStreamClient

DELTAS_PER_STREAM = 20
FIRST_DELTA_SAMPLES = 200
ADDED_FIRST_DELTA_TARGET_MS = 5


@dataclass(frozen=True)
class FirstDeltaFigures:
    p50_ms: float
    p99_ms: float
    samples: int


@dataclass(frozen=True)
class StreamingResult:
    first_delta_through_wisdom: FirstDeltaFigures
    first_delta_straight: FirstDeltaFigures
    added_first_delta_p50_ms: float
    streams: int
    stream_seconds: float
    completed: int
    other_endings: dict[str, int]  # how the streams that did not end in `done` ended
    wall_seconds: float
    slowest_stream_seconds: float
    wisdom_rss_idle_mib: float
    wisdom_rss_peak_mib: float
    memory_per_stream_kib: float
    events_relayed: int
    cpu_ms_per_event: float
    upstream_streams_peak: int


def streaming(target: Target, *, streams: int, seconds: float, samples: int = FIRST_DELTA_SAMPLES) -> StreamingResult:
    double = target.double
    try:
        through = _first_delta(target, via_wisdom=True, samples=samples)
        straight = _first_delta(target, via_wisdom=False, samples=samples)
        many = _many_streams(target, streams=streams, seconds=seconds)
    finally:
        double.clear_switches()
    return StreamingResult(
        first_delta_through_wisdom=through,
        first_delta_straight=straight,
        added_first_delta_p50_ms=round(through.p50_ms - straight.p50_ms, 3),
        stream_seconds=seconds,
        **many,
    )


def _first_delta(target: Target, *, via_wisdom: bool, samples: int) -> FirstDeltaFigures:
    received: dict[str, int] = {}
    for i in range(samples):
        request_id = f"bench-first-{'w' if via_wisdom else 'd'}-{i}-{uuid.uuid4().hex[:6]}"
        stream = _open(target, via_wisdom=via_wisdom, content="first delta", request_id=request_id)
        try:
            while True:
                event = stream.next_event()
                if event is None or event[0] == "delta":
                    break
            received[request_id] = time.monotonic_ns()
            stream.events()  # to the end, so the double records a whole stream
        finally:
            stream.close()
    emitted = {s["request_id"]: s["first_delta_ns"] for s in target.double.streams() if s["request_id"] in received}
    latencies = sorted((received[r] - emitted[r]) / 1e6 for r in received if emitted.get(r))
    return FirstDeltaFigures(
        p50_ms=round(statistics.median(latencies), 3),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3),
        samples=len(latencies),
    )


def _many_streams(target: Target, *, streams: int, seconds: float) -> dict:
    double = target.double
    pause_ms = int(seconds * 1000 / (DELTAS_PER_STREAM - 1))  # the first delta at once, then a pause before each
    double.switch(stream_deltas=DELTAS_PER_STREAM, stream_delta_ms=pause_ms)
    content = "x" * (DELTAS_PER_STREAM * 10)  # the reply splits into DELTAS_PER_STREAM pieces
    endings: dict[str, int] = {}
    durations: list[float] = []
    events = [0]
    lock = threading.Lock()

    run_id = uuid.uuid4().hex[:8]

    def one(_: int) -> None:
        started = time.monotonic()
        ending = "no answer"
        try:
            stream = _open(
                target, via_wisdom=True, content=content, request_id=f"bench-many-{run_id}-{uuid.uuid4().hex}"
            )
            try:
                ending = f"status {stream.status}" if stream.status != 200 else "cut short"
                count = 0
                while stream.status == 200 and (event := stream.next_event()) is not None:
                    count += 1
                    if event[0] in ("done", "error"):
                        ending = event[0]
            finally:
                stream.close()
            with lock:
                events[0] += count
        except OSError as e:
            ending = type(e).__name__
        with lock:
            endings[ending] = endings.get(ending, 0) + 1
            durations.append(time.monotonic() - started)

    wisdom_idle = procs.rss_bytes([target.wisdom_pid])
    cpu_before = procs.cpu_seconds(target.wisdom_pid)
    started = time.monotonic()
    with procs.peak_rss([target.wisdom_pid]) as peak, ThreadPoolExecutor(streams) as pool:
        list(pool.map(one, range(streams)))
    wall = time.monotonic() - started
    cpu = procs.cpu_seconds(target.wisdom_pid) - cpu_before
    upstream = [s for s in double.streams() if s["request_id"].startswith(f"bench-many-{run_id}-")]
    return {
        "streams": streams,
        "completed": endings.get("done", 0),
        "other_endings": {ending: n for ending, n in endings.items() if ending != "done"},
        "wall_seconds": round(wall, 2),
        "slowest_stream_seconds": round(max(durations), 2),
        "wisdom_rss_idle_mib": round(wisdom_idle / 2**20, 1),
        "wisdom_rss_peak_mib": round(peak.bytes / 2**20, 1),
        "memory_per_stream_kib": round((peak.bytes - wisdom_idle) / 1024 / streams, 1),
        "events_relayed": events[0],
        "cpu_ms_per_event": round(cpu * 1000 / max(events[0], 1), 3),
        "upstream_streams_peak": _most_at_once(upstream),
    }


def _most_at_once(records: list[dict]) -> int:
    """The most upstream streams open at the same moment, from the double's first-delta and end times."""
    edges = sorted(
        [(r["first_delta_ns"], 1) for r in records if r["first_delta_ns"] and r["ended_ns"]]
        + [(r["ended_ns"], -1) for r in records if r["first_delta_ns"] and r["ended_ns"]]
    )
    most = open_now = 0
    for _, change in edges:
        open_now += change
        most = max(most, open_now)
    return most


def _open(target: Target, *, via_wisdom: bool, content: str, request_id: str) -> EventStreamClient:
    if via_wisdom:
        base, path, headers = target.wisdom_url, f"/personal/entities/{ENTITY}/messages", target.auth_headers
    else:
        base, path, headers = target.double.url, f"/entities/{ENTITY}/chat", target.direct_headers
    return EventStreamClient(
        base, path, headers={**headers, "X-Request-ID": request_id}, body={"content": content}, timeout=120
    )
