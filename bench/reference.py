"""The reference proxy: the leanest honest Python version of wisdom's `GET /personal/entities/{name}`.

A bare ASGI app (no framework) for uvicorn with uvloop and httptools, and one aiohttp client session. Per call it
does what wisdom does for that route, and nothing more:
- the same HS256 bearer check as simplejwt's (signature, expiry, `token_type` access, `user_id`) with the same key,
  and the token-version claim `ver` compared with a value it is told at start-up; it has NO database, so a changed
  password or a deactivated user is not seen (wisdom looks the user row up on every call for that);
- the same name rules, the name sent upstream as one percent-encoded segment with the same headers (X-API-Key,
  X-User-Id, a request id, identity encoding), a total deadline, a cap on what is read;
- the same ownership check on the answer and the same documented fields out, with the request id echoed.
It writes no access line and keeps no metrics. Run by the benchmark:
`uvicorn bench.reference:app --loop uvloop --http httptools --no-access-log`, configured by REFERENCE_* variables.
"""

import json
import os
import re
import uuid
from urllib.parse import quote, unquote

import aiohttp
import jwt

from personal.names import entity_name_problem

UPSTREAM = os.environ.get("REFERENCE_UPSTREAM", "http://127.0.0.1:8001").rstrip("/")
UPSTREAM_KEY = os.environ.get("REFERENCE_UPSTREAM_KEY", "")
SIGNING_KEY = os.environ.get("REFERENCE_SIGNING_KEY", "")
TOKEN_VERSION = int(os.environ.get("REFERENCE_TOKEN_VERSION", "0"))
FIELDS = tuple(os.environ.get("REFERENCE_FIELDS", "name,owner_user_id").split(","))
TIMEOUT_SECONDS = float(os.environ.get("REFERENCE_TIMEOUT_SECONDS", "30"))
MAX_BODY_BYTES = int(os.environ.get("REFERENCE_MAX_BODY_BYTES", str(4 * 1024 * 1024)))
ROUTE = re.compile(r"/personal/entities/([^/]+)/?")
REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,128}")

_session: aiohttp.ClientSession | None = None


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail


def user_id_from(authorization: bytes | None) -> str:
    """The `user_id` of a valid access token in `Authorization: Bearer ...`, checked as simplejwt checks it."""
    scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
    if scheme != "Bearer" or not token:
        raise Refused(401, "Authentication credentials were not provided.")
    try:
        claims = jwt.decode(token, SIGNING_KEY, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        raise Refused(401, "Given token not valid for any token type") from None
    if claims.get("token_type") != "access" or "jti" not in claims or "user_id" not in claims:
        raise Refused(401, "Given token not valid for any token type")
    if claims.get("ver") != TOKEN_VERSION:
        raise Refused(401, "This session has ended; log in again.")
    return str(claims["user_id"])


async def entity_get(user_id: str, name: str, request_id: str) -> dict:
    headers = {
        "X-API-Key": UPSTREAM_KEY,
        "X-User-Id": user_id,
        "X-Request-ID": request_id,
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "reference",
    }
    url = f"{UPSTREAM}/entities/{quote(name, safe='')}"
    async with _session.get(url, headers=headers, allow_redirects=False) as response:
        if response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity"):
            raise Refused(502, "The agents service failed.")
        body = await response.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise Refused(502, "The agents service failed.")
        if response.status != 200:
            raise Refused(response.status if response.status in (403, 404) else 502, "upstream refused")
    entity = json.loads(body)
    if not isinstance(entity, dict) or str(entity.get("owner_user_id")) != user_id:
        raise Refused(403, "You do not have permission to perform this action.")
    return {field: entity[field] for field in FIELDS if field in entity}


async def app(scope, receive, send):
    global _session
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS, connect=3.05),
                    connector=aiohttp.TCPConnector(limit=64),
                    auto_decompress=False,
                    cookie_jar=aiohttp.DummyCookieJar(),
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    headers = dict(scope["headers"])
    presented = headers.get(b"x-request-id", b"").decode("latin-1")
    request_id = presented if REQUEST_ID.fullmatch(presented) else uuid.uuid4().hex
    status, payload = 200, None
    try:
        if scope["method"] != "GET":
            raise Refused(405, "Method not allowed.")
        if scope["path"] == "/healthz":
            payload = {"status": "ok"}
        else:
            match = ROUTE.fullmatch(scope["path"])
            if match is None:
                raise Refused(404, "Not found.")
            user_id = user_id_from(headers.get(b"authorization"))
            name = unquote(match.group(1))
            problem = entity_name_problem(name)
            if problem is not None or "%2f" in scope["raw_path"].decode("latin-1").lower():
                raise Refused(400, problem or "Entity name must not contain '/' (%2F).")
            payload = await entity_get(user_id, name, request_id)
    except Refused as e:
        status, payload = e.status, {"detail": e.detail}
    except (aiohttp.ClientError, TimeoutError, ValueError):
        status, payload = 502, {"detail": "The agents service failed."}
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
