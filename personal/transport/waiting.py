"""One wait on a stream's two sockets (upstream's and the client's) with a time-out.

Under gunicorn's gevent worker the wait parks the request's own greenlet on two watchers of gevent's loop, made
once per stream (gevent's `select.poll` makes new ones, an event and a timer on every call). Elsewhere (tests,
commands) it is the standard library's `select.poll`.
"""

import select
from typing import Protocol

from gevent import monkey

UPSTREAM = "upstream"
CLIENT = "client"
_READABLE = select.POLLIN | select.POLLHUP | select.POLLERR
_READ = 1  # libev's and libuv's EV_READ, as gevent's loop takes it


class SocketWait(Protocol):
    def wait(self, timeout: float) -> set[str]:
        """Which sockets turned readable (UPSTREAM, CLIENT) within `timeout` seconds; empty when none did."""

    def forget_client(self) -> None:
        """Stop watching the client's socket."""

    def close(self) -> None: ...


def socket_wait(upstream_fd: int, client_fd: int | None) -> SocketWait:
    if monkey.is_module_patched("select"):
        return _LoopWait(upstream_fd, client_fd)
    return _PollWait(upstream_fd, client_fd)


class _LoopWait:
    def __init__(self, upstream_fd: int, client_fd: int | None):
        from gevent.hub import get_hub

        self._loop = get_hub().loop
        self._upstream = self._loop.io(upstream_fd, _READ)
        self._client = self._loop.io(client_fd, _READ) if client_fd is not None else None

    def wait(self, timeout: float) -> set[str]:
        from gevent.hub import Waiter

        waiter = Waiter()
        self._loop.update_now()  # a timer counts from the loop's idea of now, stale by this iteration's work
        timer = self._loop.timer(max(timeout, 0))
        watchers = [(self._upstream, UPSTREAM), (self._client, CLIENT), (timer, None)]
        for watcher, name in watchers:
            if watcher is not None:
                watcher.start(waiter.switch, name)
        try:
            which = waiter.get()
        finally:
            for watcher, _ in watchers:
                if watcher is not None:
                    watcher.stop()
            timer.close()
        return {which} if which else set()

    def forget_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        self.forget_client()
        self._upstream.close()


class _PollWait:
    def __init__(self, upstream_fd: int, client_fd: int | None):
        self._fds = {upstream_fd: UPSTREAM}
        self._poll = select.poll()
        self._poll.register(upstream_fd, select.POLLIN)
        if client_fd is not None:
            self._fds[client_fd] = CLIENT
            self._poll.register(client_fd, select.POLLIN)

    def wait(self, timeout: float) -> set[str]:
        return {self._fds[fd] for fd, events in self._poll.poll(max(timeout, 0) * 1000) if events & _READABLE}

    def forget_client(self) -> None:
        for fd, name in list(self._fds.items()):
            if name == CLIENT:
                self._poll.unregister(fd)
                del self._fds[fd]

    def close(self) -> None:
        self._fds.clear()
