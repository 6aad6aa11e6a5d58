"""The gevent worker's resolver converts numeric addresses on the spot and looks names up on its thread pool."""

import json
import subprocess
import sys

from tests.helpers.processes import ROOT

SCRIPT = """
import gevent
from wisdom.gunicorn_worker import RESOLVER
gevent.config.resolver = RESOLVER
from gevent import monkey; monkey.patch_all()
import _socket, json, socket
resolver = gevent.get_hub().resolver
sent_to_pool = []
class CountingPool:
    def __init__(self, pool):
        self.pool = pool
    def apply(self, function, args, kwargs=None):
        sent_to_pool.append(args[0])
        return self.pool.apply(function, args, kwargs)
resolver.pool = CountingPool(resolver.pool)
answers = {host: socket.getaddrinfo(host, 8000, 0, socket.SOCK_STREAM) for host in ("127.0.0.1", "::1", "localhost")}
try:
    socket.getaddrinfo("no-such-host.invalid", 80)
    unknown = "resolved"
except socket.gaierror:
    unknown = "gaierror"
expected = {host: _socket.getaddrinfo(host, 8000, 0, socket.SOCK_STREAM) for host in answers}
print(json.dumps({"resolver": type(resolver).__name__, "pool": sent_to_pool, "same": answers == expected,
                  "unknown": unknown}))
"""


def test_numeric_addresses_skip_the_thread_pool_and_names_still_go_through_it():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {
        "resolver": "NumericFirstResolver",
        "pool": ["localhost", "no-such-host.invalid"],
        "same": True,
        "unknown": "gaierror",
    }
