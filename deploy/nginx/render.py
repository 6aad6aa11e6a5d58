"""Writes an nginx config for wisdom from wisdom.conf.template beside this file (standard library only).

python deploy/nginx/render.py --listen 8080 --upstream api-a:8000 --upstream api-b:8000 > nginx.conf
python deploy/nginx/render.py --compose            # docker-compose's config, as committed in compose.conf
python deploy/nginx/render.py --compose --check    # exits 1 when compose.conf is not what the template gives
"""

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "wisdom.conf.template"
COMPOSE_CONF = HERE / "compose.conf"
DEFAULT_BODY_MAX_BYTES = 1024 * 1024  # wisdom's REQUEST_BODY_MAX_BYTES default
DEFAULT_READ_TIMEOUT_SECONDS = 75  # the chat time-out (60 s) plus a margin
MAX_FAILS = 1
FAIL_TIMEOUT_SECONDS = 3

COMPOSE = {
    "listen": "8080",
    "upstreams": ["api-a:8000", "api-b:8000"],
    "prefix": "/var/lib/nginx",
    "access_log": "/dev/stdout",
    "error_log": "/dev/stderr",
    "user": "www-data",
}


def render(
    *,
    listen: str,
    upstreams: list[str],
    prefix: str,
    access_log: str,
    error_log: str,
    user: str,
    body_max_bytes: int = DEFAULT_BODY_MAX_BYTES,
    read_timeout_seconds: int = DEFAULT_READ_TIMEOUT_SECONDS,
) -> str:
    if not upstreams:
        raise ValueError("at least one upstream (host:port) is needed")
    servers = "\n".join(
        f"        server {address} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT_SECONDS}s;" for address in upstreams
    )
    fields = {
        "LISTEN": listen,
        "UPSTREAM_SERVERS": servers,
        "PREFIX": prefix.rstrip("/") or "/",
        "ACCESS_LOG": access_log,
        "ERROR_LOG": error_log,
        "USER": user,
        "BODY_MAX_BYTES": str(int(body_max_bytes)),
        "READ_TIMEOUT": f"{int(read_timeout_seconds)}s",
    }
    text = TEMPLATE.read_text()
    missing = set(re.findall(r"\{\{(\w+)\}\}", text)) - set(fields)
    if missing:
        raise ValueError(f"the template has fields render() does not fill: {sorted(missing)}")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: fields[m.group(1)], text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compose", action="store_true", help="docker-compose's config (deploy/nginx/compose.conf)")
    parser.add_argument("--check", action="store_true", help="with --compose: fail when compose.conf is stale")
    parser.add_argument("--write", action="store_true", help="with --compose: rewrite compose.conf")
    parser.add_argument("--listen", default="8080")
    parser.add_argument("--upstream", action="append", default=[], help="host:port of a replica (repeat)")
    parser.add_argument("--prefix", default="/var/lib/nginx")
    parser.add_argument("--access-log", default="/dev/stdout")
    parser.add_argument("--error-log", default="/dev/stderr")
    parser.add_argument("--user", default="www-data")
    parser.add_argument("--body-max-bytes", type=int, default=DEFAULT_BODY_MAX_BYTES)
    parser.add_argument("--read-timeout-seconds", type=int, default=DEFAULT_READ_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)

    if args.compose:
        text = render(**COMPOSE)
        if args.check:
            if COMPOSE_CONF.read_text() != text:
                print("deploy/nginx/compose.conf is stale: run 'make nginx-conf' and commit it", file=sys.stderr)
                return 1
            print("deploy/nginx/compose.conf is up to date")
            return 0
        if args.write:
            COMPOSE_CONF.write_text(text)
            return 0
        sys.stdout.write(text)
        return 0

    sys.stdout.write(
        render(
            listen=args.listen,
            upstreams=args.upstream,
            prefix=args.prefix,
            access_log=args.access_log,
            error_log=args.error_log,
            user=args.user,
            body_max_bytes=args.body_max_bytes,
            read_timeout_seconds=args.read_timeout_seconds,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
