"""Stream admission: how many streamed chats a user may have open at once, and a worker may relay at once.

Both are checked before the message is counted or upstream is asked, and refuse at once (never queue):
- per user, per plan (PERSONAL_<PLAN>_TIER_CONCURRENT_STREAMS), across every process and replica: each open
  stream holds a place in the shared cache (personal/stream_places.py), taken atomically, so two racing streams
  can never both take the last one. A place is a lease (PERSONAL_STREAM_LEASE_SECONDS) renewed while the stream
  relays, so a worker killed mid-stream frees it when the lease runs out. Over the limit: 429
  `stream_limit_exceeded`. A cache that is down fails open, as the message limits do: the stream goes on
  uncounted.
- per worker process (PERSONAL_STREAM_CAPACITY): a count in memory. Past it: 503 `stream_capacity_reached` with
  Retry-After, so the client (or a balancer) tries a worker or replica with room.
A place is freed when the stream ends however it ends (done, error, client gone, relay closed or collected);
one the process forgot to free still lapses once the stream's longest life has passed.
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from accounts.models import Plan, User
from personal.errors import StreamCapacityReached, StreamLimitExceeded
from personal.stream_places import stream_places
from wisdom.cache import cache_block

logger = logging.getLogger(__name__)

# Past a stream's longest life (PERSONAL_STREAM_MAX_SECONDS) a place it never freed lapses after this much more.
FORGOTTEN_AFTER_SECONDS = 60.0


def plan_stream_limit(*, plan: str) -> int | None:
    """The plan's open streams at once; None means no limit (and an unknown plan gets free's)."""
    limits = {
        Plan.FREE: settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS,
        Plan.PRO: settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS,
        Plan.ENTERPRISE: settings.PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS,
    }
    return limits.get(plan, settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS)


# --- per worker process ------------------------------------------------------------------------------------


class WorkerStreams:
    """The streams this process relays: each with the time past which it surely ended (monotonic)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, float] = {}

    def take(self, *, capacity: int, lapses_at: float) -> str:
        with self._lock:
            if len(self._open) >= capacity:
                now = time.monotonic()
                for token in [t for t, ends in self._open.items() if ends <= now]:
                    del self._open[token]  # a stream that was never freed: it cannot still be relaying
                if len(self._open) >= capacity:
                    raise StreamCapacityReached()
            token = uuid.uuid4().hex
            self._open[token] = lapses_at
            return token

    def free(self, token: str) -> None:
        with self._lock:
            self._open.pop(token, None)

    def count(self) -> int:
        with self._lock:
            return len(self._open)


worker_streams = WorkerStreams()


# --- per user, in the shared cache -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamUse:
    open: int | None  # None: not counted (no limit, or the cache is unavailable)
    limit: int | None


def stream_use(*, user: User) -> StreamUse:
    """The user's open streams, as the next stream's admission counts them."""
    limit = plan_stream_limit(plan=user.plan)
    if limit is None:
        return StreamUse(open=None, limit=None)
    opened = None
    with cache_block("counting open streams") as available:
        if available:
            opened = stream_places().count(str(user.pk))
    return StreamUse(open=opened, limit=limit)


# --- one stream's admission --------------------------------------------------------------------------------


@dataclass(slots=True)
class Admission:
    """One stream's places: in this worker, and (when its plan has a limit and the cache answered) the user's."""

    worker_token: str
    place: str | None = None
    place_token: str = ""
    place_limit: int = 0
    renewed_at: float = field(default_factory=time.monotonic)
    freed: bool = False

    def renew_when_due(self) -> None:
        """Extends the user's place while the stream lives: at most every third of the lease."""
        now = time.monotonic()
        if self.freed or self.place is None or now - self.renewed_at < settings.PERSONAL_STREAM_LEASE_SECONDS / 3:
            return
        self.renewed_at = now
        with cache_block("renewing a stream's place") as available:
            if not available:
                return
            # The place is only lost if this stream stalled past its whole lease and the user's other streams
            # then filled the limit; it runs on uncounted (fails open), and `free` leaves their places alone.
            held = stream_places().renew(
                self.place,
                token=self.place_token,
                limit=self.place_limit,
                lease=settings.PERSONAL_STREAM_LEASE_SECONDS,
            )
            if not held:
                logger.warning("a stream's place lapsed and was taken by another stream")

    def free(self) -> None:
        """Frees both places, once; safe to call from every way a stream can end."""
        if self.freed:
            return
        self.freed = True
        worker_streams.free(self.worker_token)
        if self.place is None:
            return
        with cache_block("freeing a stream's place") as available:
            if available:
                stream_places().free(self.place, token=self.place_token)


def stream_admit(*, user: User) -> Admission:
    """Admits one more stream, or refuses it at once: 503 when this worker is full, 429 over the plan's limit."""
    lapses_at = time.monotonic() + settings.PERSONAL_STREAM_MAX_SECONDS + FORGOTTEN_AFTER_SECONDS
    admission = Admission(
        worker_token=worker_streams.take(capacity=settings.PERSONAL_STREAM_CAPACITY, lapses_at=lapses_at)
    )
    limit = plan_stream_limit(plan=user.plan)
    if limit is None:
        return admission
    token = uuid.uuid4().hex
    place: str | None = None
    full = False
    try:
        with cache_block("stream admission") as available:
            if available:
                place = stream_places().take(
                    str(user.pk), limit=limit, token=token, lease=settings.PERSONAL_STREAM_LEASE_SECONDS
                )
                full = place is None
    except BaseException:
        admission.free()
        raise
    if full:
        admission.free()
        raise StreamLimitExceeded(plan=user.plan, limit=limit)
    admission.place, admission.place_token, admission.place_limit = place, token, limit
    return admission


class AdmittedEvents:
    """A stream's events, renewing its place as they pass; closing it closes the stream and frees the places."""

    def __init__(self, events: Iterator[bytes], admission: Admission):
        self._events = events
        self._admission = admission

    def __iter__(self) -> "AdmittedEvents":
        return self

    def __next__(self) -> bytes:
        event = next(self._events)
        self._admission.renew_when_due()
        return event

    def close(self) -> None:
        try:
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
        finally:
            self._admission.free()
