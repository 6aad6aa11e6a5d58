"""gevent's thread resolver, except that a numeric address (an IP literal) is converted on the spot.

A name lookup under gevent is a round trip through a thread pool (about 0.1 ms of CPU, more under load), which a
numeric address does not need: the C library converts it without the network. Every upstream connection, and
the cache's and the database's, asks for one. gunicorn's gevent worker selects this resolver by name
(`gevent.config.resolver`) before its first lookup; imported only there.
"""

import _socket

from gevent.resolver.thread import Resolver


class NumericFirstResolver(Resolver):
    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        if host is not None:
            try:
                return _socket.getaddrinfo(host, port, family, type, proto, flags | _socket.AI_NUMERICHOST)
            except (_socket.gaierror, UnicodeError):
                pass  # a name: looked up on the pool's thread
        return super().getaddrinfo(host, port, family, type, proto, flags)
