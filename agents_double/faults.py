"""The double's switches: added latency and one fault at a time, flipped by CLI flags or POST /__control."""

import re
import threading
from dataclasses import asdict, dataclass, field

FAULTS = ("down", "hang", "reset_mid_body", "non_json", "unauthorized", "canned", "trickle", "gzip_bomb", "oversized")
# What a streamed chat does after its first delta, instead of finishing normally.
STREAM_FAULTS = ("error_event", "cut", "silence", "malformed", "oversized_event", "no_done")
STREAM_MODES = ("sse", "json")


@dataclass
class Switches:
    latency_ms: int = 0
    latency_match: str = ""  # a regex searched in "METHOD /path"; empty matches every call
    fault: str | None = None  # one of FAULTS
    fault_match: str = ""
    fault_times: int | None = None  # apply to this many matching calls, then clear; None = until cleared
    fault_status: int = 500  # fault "canned" answers fault_status with fault_body
    fault_body: str = '{"detail": "A canned answer from the agents double."}'
    fault_content_type: str = "application/json"
    fault_headers: dict = field(default_factory=dict)
    trickle_ms: int = 1000  # fault "trickle": the whole answer, status line included, one byte per interval
    oversize_bytes: int = 8 * 1024 * 1024  # fault "oversized": a valid JSON array of about this many bytes
    bomb_inflated_bytes: int = 512 * 1024 * 1024  # fault "gzip_bomb": zeros that gzip to about 1/1000 of this
    # merged into every successful answer's objects: an upstream that adds fields wisdom does not document
    extra_fields: dict = field(default_factory=dict)
    # --- a chat asked for with Accept: text/event-stream ---
    stream_mode: str = "sse"  # "json": answer 201 JSON anyway, as an upstream that does not stream
    stream_deltas: int = 0  # the reply in this many pieces; 0: one piece per word
    stream_first_delta_ms: int = 0  # before the first delta
    stream_delta_ms: int = 0  # between two deltas
    stream_step: bool = False  # each delta after the first waits for a change of the switches (tests pace it)
    stream_keepalive_ms: int = 0  # while waiting, a comment line this often; 0: none
    stream_extra_events: bool = False  # an unknown event, an id line and a comment between deltas
    stream_fault: str | None = None  # one of STREAM_FAULTS, after the first delta
    stream_error_detail: str = "upstream model crashed; key=sk-live-upstream-secret"  # fault "error_event"

    def as_dict(self) -> dict:
        return asdict(self)


class SwitchBoard:
    """The current switches, shared by every handler thread."""

    def __init__(self, initial: Switches | None = None):
        self._lock = threading.Lock()
        self._switches = initial or Switches()
        self._generation = 0  # bumped by every change from outside, so a hanging call can end
        self._changed = threading.Condition(self._lock)

    def snapshot(self) -> dict:
        with self._lock:
            return self._switches.as_dict()

    def update(self, values: dict) -> dict:
        known = set(Switches().as_dict())
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown switch {unknown[0]!r}; known: {sorted(known)}")
        fault = values.get("fault")
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {list(FAULTS)}")
        stream_fault = values.get("stream_fault")
        if stream_fault is not None and stream_fault not in STREAM_FAULTS:
            raise ValueError(f"unknown stream_fault {stream_fault!r}; known: {list(STREAM_FAULTS)}")
        if values.get("stream_mode", "sse") not in STREAM_MODES:
            raise ValueError(f"unknown stream_mode; known: {list(STREAM_MODES)}")
        for pattern in ("latency_match", "fault_match"):
            if pattern in values:
                re.compile(values[pattern])
        with self._lock:
            merged = {**self._switches.as_dict(), **values}
            self._switches = Switches(**merged)
            self._generation += 1
            self._changed.notify_all()
            return self._switches.as_dict()

    def clear(self) -> dict:
        with self._lock:
            self._switches = Switches()
            self._generation += 1
            self._changed.notify_all()
            return self._switches.as_dict()

    def latency_for(self, call: str) -> float:
        with self._lock:
            s = self._switches
            if s.latency_ms > 0 and re.search(s.latency_match, call):
                return s.latency_ms / 1000
            return 0.0

    def take_fault(self, call: str) -> Switches | None:
        """The fault to apply to this call, if any, counting it against fault_times."""
        with self._lock:
            s = self._switches
            if s.fault is None or not re.search(s.fault_match, call):
                return None
            applied = Switches(**s.as_dict())
            if s.fault_times is not None:
                s.fault_times -= 1
                if s.fault_times <= 0:
                    s.fault = None
                    s.fault_times = None
            return applied

    def current(self) -> Switches:
        """A copy of the switches as they are now."""
        with self._lock:
            return Switches(**self._switches.as_dict())

    def extra_fields(self) -> dict:
        with self._lock:
            return dict(self._switches.extra_fields)

    def generation(self) -> int:
        with self._lock:
            return self._generation

    def wait_for_change(self, generation: int, timeout: float) -> bool:
        """Blocks until the switches change (True) or the time-out passes: a hang lasts until a test moves on."""
        with self._lock:
            return self._changed.wait_for(lambda: self._generation != generation, timeout=timeout)
