"""The checkout's gunicorn.conf.py with gunicorn's gevent worker instead of its own: the serving-model
experiment of bench/NOTES.md ("Streams: serving models measured"). Everything else (binding, time-outs, hooks,
metrics) is the committed file's, read from the working directory gunicorn runs in.

`python -m bench --only streams --stream-wisdom "wisdom gevent=bench/gunicorn.gevent.conf.py"`
"""

import os
from pathlib import Path

_committed = Path.cwd() / "gunicorn.conf.py"
exec(compile(_committed.read_text(), str(_committed), "exec"))  # the committed settings, then ours

worker_class = "gevent"
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "5000"))
