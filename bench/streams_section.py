"""The stream section's servers: the async upstream, every wisdom variant asked for (by default the checkout's
committed gunicorn.conf.py) and the reference stream relay; then bench/scenarios/streams.py drives them."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.commands import CommandLog
from bench.config import AGENTS_API_KEY
from bench.database import BenchUser, fresh_access_token
from bench.scenarios.streams import ServerUnderTest, StreamLoad, StreamsResult, streams_at_scale
from bench.servers import stream_relay_server, stream_upstream, wisdom_server
from bench.target import ENTITY
from tests.helpers.processes import ROOT


@dataclass(frozen=True)
class WisdomVariant:
    label: str
    config: str  # a gunicorn config file, relative to `root`
    root: Path  # the checkout whose code runs (read only: no bytecode is written there)

    @classmethod
    def parse(cls, text: str) -> "WisdomVariant":
        """`label=config` or `label=config@/path/to/checkout`."""
        label, separator, rest = text.partition("=")
        if not separator or not label.strip() or not rest.strip():
            raise ValueError(f"{text!r} is not label=config[@checkout]")
        config, _, root = rest.partition("@")
        checkout = Path(root).resolve() if root else ROOT
        if not (checkout / config).is_file() and not (ROOT / config).is_file():
            raise ValueError(f"{config!r} is in neither {checkout} nor {ROOT}")
        return cls(label=label.strip(), config=config, root=checkout)

    def config_path(self) -> str:
        """The config in the checkout, else this bench's own (bench/gunicorn.gevent.conf.py for another checkout)."""
        return str(self.root / self.config) if (self.root / self.config).is_file() else str(ROOT / self.config)

    def describe(self) -> str:
        commit = subprocess.run(
            ["git", "-C", str(self.root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        where = "this checkout" if self.root == ROOT else f"the checkout at {self.root}"
        return f"`gunicorn -c {self.config} wisdom.wsgi:application`, {where} (commit {commit or 'unknown'})"


DEFAULT_VARIANTS = (WisdomVariant(label="wisdom", config="gunicorn.conf.py", root=ROOT),)


def stream_section(
    *,
    variants: tuple[WisdomVariant, ...],
    server_env: dict[str, str],
    signing_key: str,
    streamer: BenchUser,
    bystander: BenchUser,
    counts: list[int],
    stream_seconds: int,
    ramp_seconds: int,
    repeats: int,
    log_dir: Path,
    commands: CommandLog,
) -> StreamsResult:
    for variant in variants:
        if variant.root != ROOT:  # that checkout's own migrations, on the benchmark's database
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=variant.root,
                           env={**os.environ, **server_env, "PYTHONDONTWRITEBYTECODE": "1"},
                           check=True, timeout=300)  # fmt: skip
    commands.record("stream load generator (its plan as JSON on stdin)", [sys.executable, "-m", "bench.stream_load"])
    upstream_log = log_dir / "stream-upstream.log"
    with stream_upstream(
        api_key=AGENTS_API_KEY, deltas=stream_seconds, interval=1.0, log=upstream_log, commands=commands
    ) as upstream:
        env = {**server_env, "INTUNO_AGENTS_BASE_URL": upstream.url}
        servers = [_wisdom(variant, env=env, log_dir=log_dir, commands=commands) for variant in variants]
        servers.append(
            ServerUnderTest(
                label="relay",
                description="the reference stream relay (bench/stream_relay.py): aiohttp on uvloop, one process",
                start=lambda log_name: stream_relay_server(
                    upstream=upstream.url,
                    upstream_key=AGENTS_API_KEY,
                    signing_key=signing_key,
                    token_version=streamer.token_version,
                    log=log_dir / f"{log_name}.log",
                    commands=commands,
                ),
            )
        )
        load = StreamLoad(
            path=f"/personal/entities/{ENTITY}/messages",
            body=json.dumps({"content": "a streamed chat"}),
            headers={"Authorization": f"Bearer {fresh_access_token(streamer.id)}"},
            bystander_headers={"Authorization": f"Bearer {fresh_access_token(bystander.id)}"},
        )
        return streams_at_scale(
            servers,
            upstream=upstream,
            load=load,
            counts=counts,
            stream_seconds=stream_seconds,
            ramp_seconds=ramp_seconds,
            repeats=repeats,
            log_dir=log_dir,
        )


def _wisdom(variant: WisdomVariant, *, env: dict[str, str], log_dir: Path, commands: CommandLog) -> ServerUnderTest:
    if variant.root != ROOT:
        env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}

    def start(log_name: str):
        return wisdom_server(
            env,
            log=log_dir / f"{log_name}.log",
            commands=commands,
            label=variant.label,
            cwd=variant.root,
            config=variant.config_path(),
        )

    return ServerUnderTest(label=variant.label, description=variant.describe(), start=start)
