"""A streamed answer, read as it arrives by a reader of its own that feeds a bounded queue.

The relay waits on the queue with a time-out (the next keep-alive, the gap and total deadlines), so it can write
to its client while upstream is silent, and nothing it waits on is ever interrupted mid-read. The reader is a
`threading.Thread`: under gunicorn's gevent worker (patched) a greenlet of a few kilobytes, elsewhere (tests,
commands) an OS thread. A full queue holds the reader back (upstream then waits on TCP), so memory stays bounded.
"""

import queue
import threading

import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ReadTimeoutError

from personal.transport.body import READ_CHUNK_BYTES, read_capped
from personal.transport.errors import DeadlineExceeded, StreamBroken

QUEUE_CHUNKS = 8
_WAKE = object()  # a read that returns nothing (None): something else needs the relay's attention


class UpstreamStream:
    """One answer's body as it arrives. One relay reads it; `close` (idempotent) ends it from anywhere."""

    def __init__(self, response: requests.Response, *, max_body_bytes: int):
        self._response = response
        self.status: int = response.status_code
        self.headers: CaseInsensitiveDict = response.headers
        self.max_body_bytes = max_body_bytes
        self._chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._reader: threading.Thread | None = None
        self._reading = False  # the reader is inside a read: only it may close the response (it would be reentrant)
        self._lock = threading.Lock()
        self.closed = False

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def read_body(self) -> bytes:
        """The whole (non-streamed) body, up to the cap; the caller bounds it with a deadline."""
        return read_capped(self._response.raw, self.headers, max_bytes=self.max_body_bytes)

    def read(self, *, timeout: float) -> bytes | None:
        """The next body bytes; b"" once the body is complete; None when `timeout` passed first (or `wake`).
        Raises StreamBroken when the connection failed, DeadlineExceeded when a read outwaited its socket time-out."""
        if self._reader is None:
            self._reading = True
            self._reader = threading.Thread(target=self._read_all, name="upstream-stream", daemon=True)
            self._reader.start()
        try:
            item = self._chunks.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        if isinstance(item, Exception):
            raise item
        return None if item is _WAKE else item

    def wake(self) -> None:
        """Ends the relay's current wait at once (safe from another greenlet or thread)."""
        try:
            self._chunks.put_nowait(_WAKE)
        except queue.Full:
            pass  # the relay has chunks waiting: it is not blocked, and looks at what woke it after each one

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            reading = self._reading
        raw = self._response.raw
        try:
            raw.shutdown()  # a reader blocked on the socket returns at once, and closes the response itself
        except (OSError, RuntimeError):
            pass  # RuntimeError: read to its end, the connection is back in the pool
        if not reading:
            self._response.close()
        while True:  # a reader held back by a full queue gets its place, sees `closed` and ends
            try:
                self._chunks.get_nowait()
            except queue.Empty:
                break

    def _read_all(self) -> None:
        raw = self._response.raw
        try:
            while not self.closed:
                chunk = raw.read1(READ_CHUNK_BYTES, decode_content=False)
                self._chunks.put(chunk)
                if not chunk:
                    return
        except Exception as e:  # the connection failed, timed out or was closed under the read
            if not self.closed:
                timed_out = isinstance(e, TimeoutError | ReadTimeoutError)
                self._chunks.put((DeadlineExceeded if timed_out else StreamBroken)(type(e).__name__))
        finally:
            with self._lock:
                self._reading = False
                closed = self.closed
            if closed:
                self._response.close()
