"""The stream benchmark's load generator, in a process of its own (asyncio, uvloop, aiohttp).

Opens `streams` streamed chats started evenly over `ramp` seconds, each on its own connection, and reads each to
its end; meanwhile a bystander (another user) probes `/auth/me`, `/healthz` and `/readyz`, each every
`probe_every` seconds on a fresh connection (as a kubelet does), from the first stream's start until the last
ends. Every stream and probe has a total deadline. Reads a JSON plan on stdin, writes a JSON record on stdout:
per stream its first-delta latency (from sending the request to having parsed the first `delta`), its ending
(`done`, `error`, `status 503`, `timeout`, `cut short` or the exception's name) and its events; per probe its
path, latency and outcome; the most streams open at once (answered 200 and not yet ended).
Run by bench/scenarios/streams.py: `python -m bench.stream_load < plan.json`.
"""

import asyncio
import json
import resource
import sys
import time

import aiohttp
import uvloop

PROBES = ("/auth/me", "/healthz", "/readyz")


class Load:
    def __init__(self, plan: dict):
        self.plan = plan
        self.open_now = 0
        self.most_open = 0
        self.started = time.monotonic()
        self.streams: list[dict] = []
        self.probes: list[dict] = []

    async def run(self) -> dict:
        plan = self.plan
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
            started = self.started = time.monotonic()
            count, ramp = plan["streams"], plan["ramp_seconds"]
            tasks = [
                asyncio.create_task(self.stream(session, start_at=started + ramp * i / count)) for i in range(count)
            ]
            streams_done = asyncio.gather(*tasks)
            probing = asyncio.create_task(self.probe_all(session, until=streams_done))
            await streams_done
            await probing
            wall = time.monotonic() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "streams": self.streams,
            "probes": self.probes,
            "most_open": self.most_open,
            "wall_seconds": wall,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
        }

    async def stream(self, session: aiohttp.ClientSession, *, start_at: float) -> None:
        plan = self.plan
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        sent = time.monotonic()
        record = {
            "sent_s": sent - self.started,
            "first_delta_s": None,
            "ending": "timeout",
            "events": 0,
            "seconds": None,
        }
        answered = False
        try:
            async with asyncio.timeout(plan["stream_deadline_seconds"]):
                async with session.post(
                    plan["url"] + plan["path"],
                    data=plan["body"],
                    headers={**plan["headers"], "Accept": "text/event-stream", "Content-Type": "application/json"},
                ) as response:
                    if response.status != 200:
                        record["ending"] = f"status {response.status}"
                        await response.read()
                        return
                    answered = True
                    self.open_now += 1
                    self.most_open = max(self.most_open, self.open_now)
                    record["ending"] = await self.read_events(response, record, sent=sent)
        except TimeoutError:
            record["ending"] = "timeout"
        except (aiohttp.ClientError, OSError) as e:
            record["ending"] = type(e).__name__
        finally:
            if answered:
                self.open_now -= 1
            record["seconds"] = time.monotonic() - sent
            self.streams.append(record)

    async def read_events(self, response: aiohttp.ClientResponse, record: dict, *, sent: float) -> str:
        """Every event to the end of the body; the stream's ending is its first final event."""
        pending, ending = b"", None
        async for chunk in response.content.iter_any():
            pending += chunk
            while b"\n\n" in pending:
                block, pending = pending.split(b"\n\n", 1)
                name = _event_name(block)
                if name is None:
                    continue  # a comment (keep-alive)
                record["events"] += 1
                if name == "delta" and record["first_delta_s"] is None:
                    record["first_delta_s"] = time.monotonic() - sent
                if name in ("done", "error") and ending is None:
                    ending = name
        return ending or "cut short"

    async def probe_all(self, session: aiohttp.ClientSession, *, until: asyncio.Future) -> None:
        plan, pending = self.plan, set()
        every = plan["probe_every_seconds"]
        tick = 0
        while not until.done():
            path = PROBES[tick % len(PROBES)]
            pending.add(asyncio.create_task(self.probe(session, path)))
            tick += 1
            await asyncio.wait([until], timeout=every / len(PROBES))
        if pending:
            await asyncio.wait(pending)

    async def probe(self, session: aiohttp.ClientSession, path: str) -> None:
        plan = self.plan
        sent = time.monotonic()
        record = {"path": path, "sent_s": sent - self.started, "seconds": None, "outcome": "timeout"}
        headers = plan["bystander_headers"] if path == "/auth/me" else {}
        try:
            async with asyncio.timeout(plan["probe_timeout_seconds"]):
                async with session.get(plan["url"] + path, headers=headers) as response:
                    await response.read()
                    record["outcome"] = "ok" if response.status == 200 else f"status {response.status}"
            record["seconds"] = time.monotonic() - sent
        except TimeoutError:
            pass
        except (aiohttp.ClientError, OSError) as e:
            record["outcome"] = type(e).__name__
            record["seconds"] = time.monotonic() - sent
        self.probes.append(record)


def _event_name(block: bytes) -> str | None:
    name = None
    for line in block.splitlines():
        if line.startswith(b"event:"):
            name = line[6:].strip().decode()
        elif line.startswith(b"data:") and name is None:
            name = "message"
    return name


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per stream and per probe
    plan = json.load(sys.stdin)
    result = uvloop.run(Load(plan).run())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
