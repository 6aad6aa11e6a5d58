"""The gevent worker's stop, driven directly in a process of its own (gevent patches the standard library)."""

from wisdom.tests.startup import clean_env, run_python

STOP_WITH_A_BACKLOG = """
from gevent import monkey

monkey.patch_all()

import logging
import socket
from types import SimpleNamespace

import gevent
from gunicorn.workers.ggevent import GeventWorker

from wisdom.gunicorn_worker import DrainingGeventWorker

answered = []


def answer(self, listener, client, addr):  # stands in for gunicorn reading and answering a request
    gevent.sleep(0.2)
    client.sendall(b"answered")
    client.close()
    answered.append(addr)


GeventWorker.handle = answer
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]

worker = DrainingGeventWorker.__new__(DrainingGeventWorker)
worker.sockets = [listener]
worker.worker_connections = 16
worker.cfg = SimpleNamespace(workers=2, graceful_timeout=5)
worker.log = logging.getLogger("worker")
worker.notify = lambda: None
worker.alive = False  # stopped before its loop looked again: what reached the listener is all it serves
worker.run()
print(len(answered))  # when run() returns the worker process exits: what is not answered by then is cut
"""


def test_a_stopping_worker_answers_every_connection_it_accepted_from_its_backlog_before_it_exits():
    result = run_python(["-c", STOP_WITH_A_BACKLOG], env=clean_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
