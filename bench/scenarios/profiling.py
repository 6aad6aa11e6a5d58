"""CPU profile of every gunicorn worker under proxied GETs (py-spy, sampling only where a thread holds the GIL)."""

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.profile import FunctionShare, top_functions
from bench.target import Target
from bench.tools import py_spy
from bench.wrk import run_wrk

# The layers one proxied request crosses, outermost first: their inclusive time is reported.
LAYERS = (
    "RequestContextMiddleware.__call__",
    "APIView.dispatch",
    "JWTAuthentication.authenticate",
    "JWTAuthentication.get_validated_token",
    "VersionedJWTAuthentication.get_user",
    "user_get",
    "CursorWrapper.execute",
    "EntityViewSet.initial",
    "entity_get",
    "BoundedSession.request",
    "HTTPAdapter.send",
    "HTTPConnectionPool.urlopen",
    "APIView.finalize_response",
    "JSONRenderer.render",
    "ThreadWorker.handle",
    "Response.write",
    "RequestContextMiddleware._log",
)


@dataclass(frozen=True)
class ProfileResult:
    self_time: tuple[FunctionShare, ...]
    layers: tuple[FunctionShare, ...]  # inclusive time of the LAYERS
    error: str | None = None  # why py-spy gave nothing, when it did


def profile_proxied_get(target: Target, *, seconds: int, results_dir: Path) -> ProfileResult:
    workers = [child.pid for child in psutil.Process(target.wisdom_pid).children()]
    raws = [results_dir / f"profile-{pid}.raw.txt" for pid in workers]
    spies = []
    for pid, raw in zip(workers, raws, strict=True):
        command = _spy_command(py_spy(), pid=str(pid), output=str(raw), seconds=seconds)
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    shown_output = str(results_dir / "profile-WORKER_PID.raw.txt")
    target.commands.record("profile", _spy_command("py-spy", pid="WORKER_PID", output=shown_output, seconds=seconds))
    time.sleep(1.0)  # py-spy attached before the load starts
    run_wrk(
        target.entity_url, label="profile load", log=target.commands, connections=4, threads=2,
        seconds=max(seconds - 2, 1), headers=target.auth_headers,
    )  # fmt: skip
    errors = [spy.communicate(timeout=seconds + 30)[1].decode(errors="replace") for spy in spies]
    present = [raw for raw in raws if raw.exists()]
    if not present:
        return ProfileResult(self_time=(), layers=(), error=" | ".join(e.strip()[-300:] for e in errors))
    self_time, inclusive = top_functions(present)
    return ProfileResult(self_time=self_time, layers=tuple(row for row in inclusive if _is_layer(row.function)))


def _spy_command(executable: str, *, pid: str, output: str, seconds: int) -> list[str]:
    return [executable, "record", "--pid", pid, "--gil", "--rate", "250", "--duration", str(seconds),
            "--format", "raw", "--output", output, "--nonblocking"]  # fmt: skip


def _is_layer(function: str) -> bool:
    return any(function.startswith(f"{layer} (") for layer in LAYERS)
