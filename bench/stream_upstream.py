"""An asynchronous agents upstream for the stream benchmark: thousands of streamed chats from one process.

It speaks the agents double's streamed-chat contract (agents_double/server.py) and nothing else:
`POST /entities/{name}/chat` with `Accept: text/event-stream`, X-API-Key and X-User-Id, body {"content"} ->
200 text/event-stream, one `delta` {"text"} at once and then one every `interval` seconds, `deltas` in all, and
`interval` seconds after the last a `done` {"message_id", "reply"}. The double holds a thread per stream; this
holds a coroutine, so the upstream is never what limits the servers measured.
Control (no key; loopback only): GET /__health, GET /__stats (streams open now, most at once, how they ended),
POST /__pace {"deltas", "interval"} (the warm-up uses short streams).
Run by the benchmark: `python -m bench.stream_upstream --port P --api-key K --deltas 20 --interval 1`.
"""

import argparse
import asyncio
import hmac
import json
import uuid

import uvloop
from aiohttp import web

MAX_BODY_BYTES = 64 * 1024
STATE = web.AppKey("state", dict)


async def chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not hmac.compare_digest(request.headers.get("X-API-Key", "").encode(), state["api_key"].encode()):
        return web.json_response({"detail": "Invalid API key"}, status=401)
    if not request.headers.get("X-User-Id", "").strip():
        return web.json_response({"detail": "X-User-Id header is required"}, status=400)
    try:
        body = json.loads(await request.content.read(MAX_BODY_BYTES + 1))
        content = body["content"] if isinstance(body, dict) and set(body) == {"content"} else None
    except ValueError:
        content = None
    if not isinstance(content, str) or not content:
        return web.json_response({"detail": "content: must be the only field, a non-empty string"}, status=422)
    if "text/event-stream" not in request.headers.get("Accept", ""):
        return web.json_response({"message_id": uuid.uuid4().hex, "reply": content}, status=201)
    deltas, interval = state["deltas"], state["interval"]
    pieces = [f"piece {i} " for i in range(deltas)]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    state["open"] += 1
    state["most_open"] = max(state["most_open"], state["open"])
    outcome = "client_gone"
    try:
        await response.prepare(request)
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(interval)
            await response.write(_event("delta", {"text": piece}))
        await asyncio.sleep(interval)
        await response.write(_event("done", {"message_id": uuid.uuid4().hex, "reply": "".join(pieces)}))
        await response.write_eof()
        outcome = "done"
    except ConnectionError:
        pass  # the peer left: the write failed
    finally:
        state["open"] -= 1
        state["ended"][outcome] = state["ended"].get(outcome, 0) + 1
    return response


def _event(name: str, payload: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({key: state[key] for key in ("open", "most_open", "ended", "deltas", "interval")})


async def pace(request: web.Request) -> web.Response:
    """New streams get these; `most_open` and `ended` start again."""
    state, body = request.app[STATE], await request.json()
    state["deltas"], state["interval"] = int(body["deltas"]), float(body["interval"])
    state["most_open"], state["ended"] = state["open"], {}
    return await stats(request)


def build_app(*, api_key: str, deltas: int, interval: float) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE] = {"api_key": api_key, "deltas": deltas, "interval": interval, "open": 0, "most_open": 0, "ended": {}}
    app.add_routes(
        [
            web.post("/entities/{name}/chat", chat),
            web.get("/__health", health),
            web.get("/__stats", stats),
            web.post("/__pace", pace),
        ]
    )
    return app


async def serve(args: argparse.Namespace) -> None:
    app = build_app(api_key=args.api_key, deltas=args.deltas, interval=args.interval)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port, backlog=4096).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--deltas", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    uvloop.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
