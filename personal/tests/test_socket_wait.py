"""The stream's one wait on two sockets answers the same under gevent's loop (as in a gevent worker) and under
the standard library's poll (tests, commands): which socket turned readable, or nothing at the time-out."""

import json
import subprocess
import sys

from tests.helpers.processes import ROOT

SCRIPT = """
import sys
if sys.argv[1] == "gevent":
    from gevent import monkey; monkey.patch_all()
import json, socket, threading, time
from personal.transport.waiting import socket_wait

upstream, upstream_peer = socket.socketpair()
client, client_peer = socket.socketpair()
wait = socket_wait(upstream.fileno(), client.fileno())
seen = {"kind": type(wait).__name__}

started = time.monotonic()
seen["silent"] = sorted(wait.wait(0.2))
seen["silent_waited_enough"] = time.monotonic() - started >= 0.15

upstream_peer.sendall(b"x")
seen["upstream"] = sorted(wait.wait(5))
upstream.recv(1)

client_peer.close()
seen["client_left"] = sorted(wait.wait(5))

wait.forget_client()
threading.Timer(0.2, upstream_peer.sendall, args=(b"y",)).start()
started = time.monotonic()
seen["after_forgetting_the_client"] = sorted(wait.wait(5))
seen["woke_for_upstream_not_at_once"] = 0.1 <= time.monotonic() - started < 4
wait.close()
print(json.dumps(seen))
"""


def run(mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


EXPECTED = {
    "silent": [],
    "silent_waited_enough": True,
    "upstream": ["upstream"],
    "client_left": ["client"],
    "after_forgetting_the_client": ["upstream"],
    "woke_for_upstream_not_at_once": True,
}


def test_under_gevent_the_wait_uses_the_loops_watchers_and_tells_which_socket_is_readable():
    assert run("gevent") == {"kind": "_LoopWait", **EXPECTED}


def test_without_gevent_the_wait_is_polls_and_tells_the_same():
    assert run("plain") == {"kind": "_PollWait", **EXPECTED}
