"""The agents service's contract, read from its OpenAPI document (personal/agents.openapi.yaml) once per process.

The client takes from it which refusals each call passes through; the double takes its limits from it.
"""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DOCUMENT_PATH = Path(__file__).with_name("agents.openapi.yaml")
# Statuses every call may answer that the client handles the same way for all of them, never passed on as such.
HANDLED_FOR_EVERY_CALL = frozenset({400, 401, 429})
METHODS = ("get", "put", "post", "patch", "delete")


@cache
def document() -> dict[str, Any]:
    with DOCUMENT_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations() -> dict[str, tuple[str, str, dict]]:
    """operationId -> (METHOD, path template, the operation)."""
    found = {}
    for path, item in document()["paths"].items():
        for method in METHODS:
            if method in item:
                found[item[method]["operationId"]] = (method.upper(), path, item[method])
    return found


def statuses(operation_id: str) -> frozenset[int]:
    return frozenset(int(status) for status in operations()[operation_id][2]["responses"])


def refusals() -> dict[str, frozenset[int]]:
    """Per call, the 4xx statuses passed on to the person with upstream's detail (see the document's top)."""
    return {
        operation_id: frozenset(s for s in statuses(operation_id) if 400 <= s < 500) - HANDLED_FOR_EVERY_CALL
        for operation_id in operations()
    }


def schema(name: str) -> dict[str, Any]:
    return document()["components"]["schemas"][name]


def fields(schema_name: str) -> frozenset[str]:
    return frozenset(schema(schema_name)["properties"])


def max_length(schema_name: str, field: str) -> int:
    return int(schema(schema_name)["properties"][field]["maxLength"])


def query_parameter(operation_id: str, name: str) -> dict[str, Any]:
    for parameter in operations()[operation_id][2].get("parameters", []):
        if parameter.get("in") == "query" and parameter["name"] == name:
            return parameter["schema"]
    raise KeyError(f"{operation_id} has no query parameter {name!r}")
