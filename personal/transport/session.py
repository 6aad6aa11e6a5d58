"""One pooled HTTP session per process: every call has a total deadline, a size cap and one reused TLS context
(and a small read buffer per answer: personal/transport/connections.py).

Each call goes straight to requests' HTTPAdapter (urllib3's pool) with a request prepared from its parts: what
requests.Session adds on top (cookie jars, hooks, settings merged from the environment, redirects) is nothing this
client wants, and it cost a third of the call's CPU. So no cookie is ever stored or sent, no proxy or .netrc
credential is taken from the environment, and no redirect is followed.

A streamed answer (`open`) comes back once its status and headers are in; its body is read by an UpstreamStream
(personal/transport/stream.py), which releases the connection when the body ends or closes it when cut short.
"""

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.utils import default_headers
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.ssl_ import create_urllib3_context

from personal.transport.body import check_encoding, read_capped
from personal.transport.connections import POOL_CLASSES_BY_SCHEME
from personal.transport.deadline import total_deadline
from personal.transport.errors import DeadlineExceeded
from personal.transport.stream import UpstreamStream

_NO_PROXIES: dict[str, str] = {}


class _PoolFullFilter(logging.Filter):
    """Past INTUNO_AGENTS_POOL_SIZE simultaneous calls (streams) a returned connection is closed, as intended;
    urllib3 warns on each, which thousands of streams would turn into noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Connection pool is full")


logging.getLogger("urllib3.connectionpool").addFilter(_PoolFullFilter())


@dataclass(frozen=True, slots=True)
class BoundedResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


class _Adapter(HTTPAdapter):
    """requests' adapter over a pool whose TLS connections share one context (certificates loaded once)."""

    def __init__(self, *, pool_size: int):
        self._ssl_context = create_urllib3_context()
        self._ssl_context.load_default_certs()
        super().__init__(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, ssl_context=self._ssl_context, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES_BY_SCHEME


class BoundedSession:
    """Safe to share between greenlets (and threads): only read after construction; urllib3's pool is safe."""

    def __init__(self, *, pool_size: int, connect_timeout: float, max_body_bytes: int, headers: dict[str, str]):
        self.connect_timeout = connect_timeout
        self.max_body_bytes = max_body_bytes
        self.headers = {**default_headers(), **headers, "Accept-Encoding": "identity"}
        self.adapter = _Adapter(pool_size=pool_size)

    def close(self) -> None:
        self.adapter.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        seconds: float,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> BoundedResponse:
        """The whole call (lookup, connect, headers, body) within `seconds`; requests' own errors pass through."""
        with _deadline_errors(method, url, seconds), total_deadline(seconds, f"{method} {url}"):
            response = self._send(method, url, seconds, headers, data, params)
            try:
                body = read_capped(response.raw, response.headers, max_bytes=self.max_body_bytes)
            finally:
                response.close()  # back to the pool when read whole; closed when cut short
            return BoundedResponse(status=response.status_code, headers=response.headers, body=body)

    def open(
        self,
        method: str,
        url: str,
        *,
        seconds: float,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> UpstreamStream:
        """Sends the request and waits for the answer's status and headers, within `seconds`; the body is left to
        read as it arrives (each read waits at most `seconds` too: the stream's gap between two events)."""
        with _deadline_errors(method, url, seconds), total_deadline(seconds, f"{method} {url}"):
            response = self._send(method, url, seconds, headers, data, None)
            try:
                check_encoding(response.headers)
            except BaseException:
                response.close()
                raise
        return UpstreamStream(response, max_body_bytes=self.max_body_bytes)

    def _send(self, method, url, seconds, headers, data, params) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        prepared.prepare_url(url, params)
        prepared.prepare_headers({**self.headers, **headers} if headers else self.headers)
        prepared.prepare_body(data, None)
        # each socket operation is bounded too, which is what bounds a call outside a gevent worker
        timeout = (min(self.connect_timeout, seconds), seconds)
        return self.adapter.send(prepared, stream=True, timeout=timeout, verify=True, proxies=_NO_PROXIES)


@contextlib.contextmanager
def _deadline_errors(method: str, url: str, seconds: float) -> Iterator[None]:
    """A socket operation's time-out is the deadline's too (each operation's limit is at most the whole call's)."""
    try:
        yield
    except (requests.Timeout, TimeoutError, ReadTimeoutError) as e:
        raise DeadlineExceeded(f"{method} {url}: over {seconds:g}s") from e
