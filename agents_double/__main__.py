"""python -m agents_double --host H --port P --api-key K [--latency-ms N] [--fault F ...]"""

import argparse
import json
import logging

from agents_double.faults import FAULTS, Switches
from agents_double.server import DoubleServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m agents_double", description="The agents service double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", required=True, help="the X-API-Key callers must send")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every matching call")
    parser.add_argument("--latency-match", default="", help='regex on "METHOD /path", e.g. "POST .*/chat$"')
    parser.add_argument("--fault", choices=FAULTS, default=None)
    parser.add_argument("--fault-match", default="")
    parser.add_argument("--fault-status", type=int, default=500)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="agents-double: %(message)s")
    switches = Switches(
        latency_ms=args.latency_ms,
        latency_match=args.latency_match,
        fault=args.fault,
        fault_match=args.fault_match,
        fault_status=args.fault_status,
    )
    server = DoubleServer((args.host, args.port), api_key=args.api_key, switches=switches)
    host, port = server.server_address[:2]
    logging.getLogger("agents_double").info(
        "listening on http://%s:%s switches %s", host, port, json.dumps(server.board.snapshot())
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
