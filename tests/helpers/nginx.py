"""nginx in front of live servers: the committed template (deploy/nginx), rendered on a free port under a temp prefix.

Each test runs its own nginx in the foreground as a subprocess; a system nginx, if any, is never touched.
Without an nginx binary the tests that need one skip (`requires_nginx`).
"""

import contextlib
import getpass
import importlib.util
import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.processes import ROOT, free_port, wait_until_up

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
requires_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run installs it)"
)


def _renderer():
    spec = importlib.util.spec_from_file_location("wisdom_nginx_render", ROOT / "deploy" / "nginx" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _renderer().render
_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+:\d+")


@dataclass
class NginxProxy:
    url: str
    process: subprocess.Popen
    prefix: Path

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def access_lines(self, *, at_least: int = 0) -> list[dict]:
        """The access log's lines; with `at_least`, waits (5 s at most) until that many are written: nginx writes
        a request's line after its answer, so a client can read the answer before the line exists."""
        deadline = time.monotonic() + 5
        while True:
            text = self.access_log.read_text() if self.access_log.exists() else ""
            lines = [json.loads(line) for line in text.splitlines() if line.endswith("}")]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def upstreams_used(self) -> list[str]:
        """Every replica address that answered a request (retries included), in order."""
        return [address for line in self.access_lines() for address in _ADDRESS.findall(line["upstream"])]

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def nginx_proxy(tmp_path: Path, upstreams: list[str], **render_options) -> Iterator[NginxProxy]:
    """nginx on a free 127.0.0.1 port in front of `upstreams` ("127.0.0.1:PORT"), until the block ends."""
    if NGINX is None:
        pytest.skip("nginx is not installed")
    port = free_port()
    prefix = tmp_path / f"nginx-{port}"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(
        render(
            listen=f"127.0.0.1:{port}",
            upstreams=upstreams,
            prefix=str(prefix),
            access_log=str(prefix / "access.log"),
            error_log=str(prefix / "error.log"),
            user=getpass.getuser(),
            **render_options,
        )
    )
    with open(prefix / "stderr.log", "wb") as stderr:
        process = subprocess.Popen(
            [NGINX, "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(conf)],
            stdout=stderr,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process)
        yield NginxProxy(url=url, process=process, prefix=prefix)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # nginx's fast shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
