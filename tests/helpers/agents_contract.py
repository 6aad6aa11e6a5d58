"""Checks requests to and answers from the agents service against its contract (personal/agents.openapi.yaml)."""

import json
from urllib.parse import parse_qs, unquote, urlsplit

from jsonschema import Draft4Validator
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from personal.agents_contract import DOCUMENT_PATH, schema

CONTRACT = OpenAPI.from_file_path(str(DOCUMENT_PATH))
SERVER = CONTRACT.spec["servers"][0]["url"]


def _request(method: str, path_and_query: str, headers: dict, body: bytes | None) -> MockRequest:
    parts = urlsplit(path_and_query)
    query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    return MockRequest(
        SERVER,
        method.lower(),
        unquote(parts.path),
        args=query,
        headers=headers,
        data=body or None,
        content_type=content_type.split(";")[0].strip(),
    )


def request_problems(received: dict) -> list[str]:
    """Why one request the double recorded (tests/helpers/double.py's `received()`) breaks the contract."""
    request = _request(received["method"], received["path"], received["headers"], received["body"].encode())
    return [f"{received['method']} {received['path']}: {error}" for error in CONTRACT.iter_request_errors(request)]


def answer_problems(method: str, path_and_query: str, headers: dict, body: bytes | None, answer) -> list[str]:
    """Why one answer (a requests.Response) breaks the contract for the request that got it."""
    request = _request(method, path_and_query, headers, body)
    content_type = answer.headers.get("Content-Type", "application/json").split(";")[0].strip()
    streamed = content_type == "text/event-stream"
    response = MockResponse(
        answer.text if streamed else answer.content,
        status_code=answer.status_code,
        headers=dict(answer.headers),
        content_type=content_type,
    )
    where = f"{method} {path_and_query} -> {answer.status_code}"
    problems = [f"{where}: {error}" for error in CONTRACT.iter_response_errors(request, response)]
    if streamed:
        problems += [f"{where}: {problem}" for problem in event_problems(answer.text)]
    return problems


EVENT_SCHEMAS = {"delta": "DeltaEvent", "done": "DoneEvent", "error": "ErrorEvent"}


def event_problems(text: str) -> list[str]:
    """A stream's events against the document: known events only, each one's data its schema, one final event."""
    problems, names = [], []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        name = fields.get("event", "message")
        names.append(name)
        if name not in EVENT_SCHEMAS:
            problems.append(f"event {name!r} is not in the contract")
            continue
        for error in Draft4Validator(schema(EVENT_SCHEMAS[name])).iter_errors(json.loads(fields.get("data", "null"))):
            problems.append(f"event {name!r}: {error.message}")
    finals = [n for n in names if n in ("done", "error")]
    if finals != names[-1:] or len(finals) != 1:
        problems.append(f"events {names}: not deltas then exactly one final done or error")
    return problems
