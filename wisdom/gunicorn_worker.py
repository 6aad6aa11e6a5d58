"""gunicorn's gevent worker, stopping without dropping anything.

An open request costs a greenlet, not an OS thread, so one worker holds thousands of streams while every other
route stays answered (README, "Serving model"). On SIGTERM (a deploy, or the old workers of a SIGHUP reload) the
worker at once:
- answers /readyz with 503 (wisdom/draining.py);
- stops accepting, serves what already reached its listening socket, then closes it, so new connections are
  refused and a proxy retries them on another replica (a socket left open would complete connections nobody
  accepts; they would hang, then be reset, and a proxy cannot safely retry a POST it has sent);
- lets the requests it holds finish within graceful_timeout (a kept-alive connection waiting for its next request
  holds nothing: the worker exits without waiting for it, as gthread closed them); an open stream gets until
  `graceful_timeout - STREAM_LAST_EVENT_MARGIN_SECONDS`, then ends with an `error` event (personal/stream.py),
  before this worker's own deadline would cut anything.

The master imports this module (gunicorn loads the worker class there), so at module level it imports only
gunicorn, gevent, wisdom/collector.py (the standard library's gc) and wisdom/response_socket.py, never Django, and
patches nothing: each worker patches the standard library as it starts; once it has loaded the application it
settles the collector. Each answer's headers leave with its body's first piece (wisdom/response_socket.py).
"""

import time
from functools import partial

import gevent
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.workers.ggevent import GeventWorker

from wisdom.collector import collector_settle
from wisdom.response_socket import HeldHeadersSocket

STREAM_LAST_EVENT_MARGIN_SECONDS = 5  # a stream's last event, its access line, and the greenlet's unwinding
_POLL_SECONDS = 1.0  # the heartbeat gunicorn's master watches (worker_tmp_dir)
_DRAIN_CHECK_SECONDS = 0.1
RESOLVER = "wisdom.gevent_resolver.NumericFirstResolver"


class DrainingGeventWorker(GeventWorker):
    _servers: list[tuple[StreamServer, object]]  # each server with its (gevent) listening socket

    _answering = 0  # requests being answered

    def init_process(self):
        gevent.config.resolver = RESOLVER  # before the worker's first name lookup, which creates the resolver
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        collector_settle()  # thousands of streams' objects, scanned rarely (wisdom/collector.py)

    def handle(self, listener, client, addr):
        fresh = self._fresh  # a connection whose first request may still be arriving
        fresh.add(gevent.getcurrent())
        try:
            super().handle(listener, client, addr)
        finally:
            fresh.discard(gevent.getcurrent())

    def handle_request(self, listener_name, req, sock, addr):
        self._fresh.discard(gevent.getcurrent())
        self._answering += 1
        answer_socket = HeldHeadersSocket(sock)  # the headers leave with the body's first piece
        try:
            return super().handle_request(listener_name, req, answer_socket, addr)
        finally:
            self._answering -= 1
            try:
                answer_socket.flush()  # a headers-only answer
            except OSError:
                pass  # the client is gone; the connection ends with this request

    def handle_exit(self, sig, frame):
        from wisdom.draining import mark_stopping

        mark_stopping(drain_seconds=max(self.cfg.graceful_timeout - STREAM_LAST_EVENT_MARGIN_SECONDS, 0))
        super().handle_exit(sig, frame)
        gevent.spawn(self._stop_accepting)  # out of the signal handler, and at once (the loop looks every second)

    def run(self):
        self._servers = []
        self._fresh: set = set()
        for listener in self.sockets:
            listener.setblocking(1)
            # the handler only asks its listener's address, also once the listener is closed (a drain's last ones)
            named = _ListenerName(listener.getsockname())
            server = StreamServer(listener, handle=partial(self.handle, named), spawn=Pool(self.worker_connections))
            if self.cfg.workers > 1:
                server.max_accept = 1  # one connection per wake-up: spreads them over the workers
            server.start()
            self._servers.append((server, listener))

        while self.alive:
            self.notify()
            gevent.sleep(_POLL_SECONDS)

        self._stop_accepting()
        gevent.sleep(0)  # the handlers of what the backlog held start first, and so count as fresh
        started = last_notified = time.monotonic()
        while time.monotonic() - started <= self.cfg.graceful_timeout:
            if self._answering == 0 and not self._fresh:
                return
            if time.monotonic() - last_notified >= _POLL_SECONDS:
                self.notify()
                last_notified = time.monotonic()
            gevent.sleep(_DRAIN_CHECK_SECONDS)
        self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
        for server, _ in self._servers:
            server.stop(timeout=1)

    def _stop_accepting(self):
        for server, listener in self._servers:
            if not server.closed:
                server.stop_accepting()
                _serve_backlog(server, listener)
                server.close()


class _ListenerName:
    def __init__(self, name):
        self._name = name

    def getsockname(self):
        return self._name


def _serve_backlog(server: StreamServer, listener) -> None:
    """Accepts what already reached the listening socket (non-blocking: until the kernel has none left)."""
    listener.setblocking(False)
    while True:
        try:
            client, address = listener.accept()
        except OSError:  # BlockingIOError: the backlog is empty
            return
        client.setblocking(True)
        server.do_handle(client, address)
