"""The reference stream relay: the leanest honest Python version of wisdom's streamed
`POST /personal/entities/{name}/messages` (Accept: text/event-stream), as bench/reference.py is for the GET.

One aiohttp process on uvloop: the same JWT check as the reference proxy (PyJWT, the same key and claims, no
database), the body capped and checked, the chat asked of upstream with the same headers, and upstream's bytes
relayed to the client as they arrive. `/auth/me` answers from the token alone, `/healthz` and `/readyz` at once:
the bystander's probes. No log line, no metrics, no limits. Configured by REFERENCE_* variables (as
bench/reference.py): `python -m bench.stream_relay --port P`.
"""

import argparse
import asyncio
import json
import uuid
from urllib.parse import quote

import aiohttp
import uvloop
from aiohttp import web

from bench.reference import UPSTREAM, UPSTREAM_KEY, Refused, user_id_from
from personal.names import entity_name_problem

MAX_BODY_BYTES = 64 * 1024
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def messages(request: web.Request) -> web.StreamResponse:
    try:
        user_id = user_id_from(request.headers.get("Authorization", "").encode("latin-1"))
        name = request.match_info["name"]
        body = json.loads(await request.content.read(MAX_BODY_BYTES + 1) or b"null")
        if entity_name_problem(name) or not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise Refused(400, "Invalid request.")
    except Refused as e:
        return web.json_response({"detail": e.detail}, status=e.status)
    except ValueError:
        return web.json_response({"detail": "Body is not valid JSON."}, status=400)
    headers = {"X-API-Key": UPSTREAM_KEY, "X-User-Id": user_id, "X-Request-ID": uuid.uuid4().hex,
               "Accept": "text/event-stream", "Accept-Encoding": "identity"}  # fmt: skip
    url = f"{UPSTREAM}/entities/{quote(name, safe='')}/chat"
    try:
        upstream = await request.app[SESSION].post(url, json={"content": body["content"]}, headers=headers)
    except (aiohttp.ClientError, TimeoutError):
        return web.json_response({"detail": "The agents service failed."}, status=502)
    async with upstream:
        if upstream.status != 200 or upstream.content_type != "text/event-stream":
            return web.json_response({"detail": "The agents service failed."}, status=502)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                               "Cache-Control": "no-cache"})  # fmt: skip
        try:
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
        except ConnectionError:
            pass  # the client left: leaving this block closes upstream's stream
    return response


async def me(request: web.Request) -> web.Response:
    try:
        return web.json_response({"id": user_id_from(request.headers.get("Authorization", "").encode("latin-1"))})
    except Refused as e:
        return web.json_response({"detail": e.detail}, status=e.status)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def serve(host: str, port: int) -> None:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SESSION] = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(sock_connect=3.05, sock_read=60),  # the chat time-out between two reads
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    app.add_routes([web.post("/personal/entities/{name}/messages", messages), web.get("/auth/me", me),
                    web.get("/healthz", health), web.get("/readyz", health)])  # fmt: skip
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, backlog=4096).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.stream_relay")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))
