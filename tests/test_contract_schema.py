"""What a generated client reads in openapi.yaml: operation ids, security, headers, error bodies and names.

The committed file is what frontends generate from (and `make openapi-check` keeps it equal to the code's).
"""

import json

import pytest
import yaml

from tests.helpers.processes import ROOT

SCHEMA = yaml.safe_load((ROOT / "openapi.yaml").read_text())
OPERATIONS = [(method.upper(), path, op) for path, item in SCHEMA["paths"].items() for method, op in item.items()]
BY_ID = {op["operationId"]: op for _, _, op in OPERATIONS}

# Reviewed: renaming one breaks every frontend that calls it, so a change here is a breaking change.
OPERATION_IDS = {
    ("POST", "/auth/login"): "login",
    ("POST", "/auth/refresh"): "refreshTokens",
    ("POST", "/auth/logout"): "logout",
    ("POST", "/auth/logout-all"): "logoutAll",
    ("POST", "/auth/password"): "changePassword",
    ("POST", "/auth/password-reset"): "requestPasswordReset",
    ("POST", "/auth/password-reset/confirm"): "confirmPasswordReset",
    ("GET", "/auth/me"): "getMe",
    ("PATCH", "/auth/me"): "updateMe",
    ("GET", "/auth/api-keys"): "listApiKeys",
    ("POST", "/auth/api-keys"): "createApiKey",
    ("DELETE", "/auth/api-keys/{id}"): "revokeApiKey",
    ("POST", "/auth/delete-account"): "deleteAccount",
    ("GET", "/auth/me/exports"): "listExports",
    ("POST", "/auth/me/exports"): "createExport",
    ("GET", "/auth/me/exports/{id}/download"): "downloadExport",
    ("GET", "/invites"): "listInvites",
    ("POST", "/invites"): "createInvite",
    ("GET", "/invites/{id}"): "getInvite",
    ("DELETE", "/invites/{id}"): "revokeInvite",
    ("POST", "/invites/{id}/send"): "sendInvite",
    ("GET", "/invites/{token}/preview"): "previewInvite",
    ("POST", "/invites/{token}/redeem"): "redeemInvite",
    ("GET", "/personal/entities"): "listEntities",
    ("POST", "/personal/entities"): "createEntity",
    ("GET", "/personal/entities/{name}"): "getEntity",
    ("PATCH", "/personal/entities/{name}"): "updateEntity",
    ("DELETE", "/personal/entities/{name}"): "deleteEntity",
    ("POST", "/personal/entities/{name}/pause"): "pauseEntity",
    ("POST", "/personal/entities/{name}/resume"): "resumeEntity",
    ("GET", "/personal/entities/{name}/messages"): "listMessages",
    ("POST", "/personal/entities/{name}/messages"): "sendMessage",
    ("GET", "/personal/usage"): "getUsage",
}
PUBLIC = {
    *("login", "refreshTokens", "logout", "requestPasswordReset", "confirmPasswordReset"),
    *("previewInvite", "redeemInvite"),
}
# Operations that refuse a personal API key (403): changing the password, making keys, the invite admin API.
REFUSE_API_KEYS = {
    *("changePassword", "createApiKey", "deleteAccount", "createExport", "listExports", "downloadExport"),
    *("listInvites", "createInvite", "getInvite", "revokeInvite", "sendInvite"),
}

# Global names of TypeScript and JavaScript that a generated `export type <Component>` would shadow.
BUILT_INS = {
    *("Array", "ArrayBuffer", "BigInt", "Blob", "Boolean", "DataView", "Date", "Error", "EvalError", "Event"),
    *("EventSource", "File", "FormData", "Function", "Headers", "Iterator", "JSON", "Map", "Math", "Number"),
    *("Object", "Partial", "Pick", "Omit", "Promise", "Proxy", "RangeError", "Readonly", "Record", "ReferenceError"),
    *("Reflect", "RegExp", "Request", "Required", "Response", "Set", "String", "Symbol", "SyntaxError", "TypeError"),
    *("URIError", "URL", "URLSearchParams", "WeakMap", "WeakSet", "WebSocket", "Window", "Document", "Node"),
    *("Element", "Location", "History", "Storage", "Notification", "Worker", "Credential", "Text", "Comment"),
}


def _literal(schema: dict) -> str | None:
    return schema["enum"][0] if schema.get("type") == "string" and len(schema.get("enum", ())) == 1 else None


def _component(ref: str) -> dict:
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_each_operation_has_its_reviewed_id_one_per_operation():
    assert {(method, path): op["operationId"] for method, path, op in OPERATIONS} == OPERATION_IDS
    assert len(set(OPERATION_IDS.values())) == len(OPERATION_IDS)


def test_a_client_configured_with_a_bearer_token_is_offered_only_the_bearer_scheme():
    # A generated client applies every scheme an operation lists: one other than the bearer made it send the
    # token as X-Service-Key too, which then decided alone (401 "Invalid service key").
    security = {op["operationId"]: op.get("security", []) for _, _, op in OPERATIONS}

    assert {op: s for op, s in security.items() if op in PUBLIC} == {op: [] for op in PUBLIC}
    assert {op: s for op, s in security.items() if op not in PUBLIC} == {
        op: [{"jwtAuth": []}] for op in security if op not in PUBLIC
    }
    jwt = SCHEMA["components"]["securitySchemes"]["jwtAuth"]
    assert jwt == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_the_service_key_and_x_on_behalf_of_are_optional_headers_where_they_are_accepted():
    for _, path, op in OPERATIONS:
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        names = {"X-Service-Key", "X-On-Behalf-Of"} & set(headers)
        assert names == (set() if op["operationId"] in PUBLIC else {"X-Service-Key", "X-On-Behalf-Of"}), path
        assert not any(headers[name].get("required") for name in names)
        assert headers["X-Request-ID"].get("required") is not True


def test_x_api_key_is_an_optional_header_exactly_where_a_personal_api_key_is_accepted():
    # As the service key: listed as a scheme, `auth: () => token` would send the JWT as X-API-Key too.
    taking_keys = {op["operationId"] for _, _, op in OPERATIONS if op["operationId"] not in PUBLIC | REFUSE_API_KEYS}

    for _, path, op in OPERATIONS:
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        assert ("X-API-Key" in headers) == (op["operationId"] in taking_keys), path
        assert headers.get("X-API-Key", {}).get("required") is not True
    assert {"listEntities", "sendMessage", "getMe", "listApiKeys", "revokeApiKey"} <= taking_keys
    assert all("403" in BY_ID[op]["responses"] for op in REFUSE_API_KEYS)
    assert SCHEMA["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"


def test_every_answer_declares_x_request_id_and_every_429_and_503_retry_after():
    for _, path, op in OPERATIONS:
        takes_a_key = any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
        retried_after = ("429", "503", "409") if takes_a_key else ("429", "503")  # 409: the key is in use
        for status, response in {**op["responses"], **op.get("x-streamed-responses", {})}.items():
            headers = response.get("headers", {})
            assert "X-Request-ID" in headers, (path, status)
            assert ("Retry-After" in headers) == (status in retried_after), (path, status)


def test_the_two_sends_that_cost_something_take_an_idempotency_key():
    takes_a_key = sorted(
        op["operationId"]
        for _, _, op in OPERATIONS
        if any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op.get("parameters", []))
    )

    assert takes_a_key == ["createEntity", "sendMessage"]
    for op in takes_a_key:
        responses = BY_ID[op]["responses"]
        assert responses["201"]["headers"]["Idempotency-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}
        assert "idempotency_in_progress" in json.dumps(responses["409"])
        assert "idempotency_key_reused" in json.dumps(responses["422"])


def test_the_answers_of_a_message_carry_the_rate_limit_headers():
    responses = {**BY_ID["sendMessage"]["responses"], **BY_ID["sendMessage"]["x-streamed-responses"]}

    assert {s for s, r in responses.items() if {"RateLimit", "RateLimit-Policy"} <= set(r.get("headers", {}))} == {
        "200",
        "201",
        "403",
        "404",
        "409",
        "422",
        "429",
        "502",
        "504",
    }


@pytest.mark.parametrize(
    ("operation_id", "codes"),
    [
        ("createEntity", {"entity_quota_exceeded", "upstream_rate_limited"}),
        ("sendMessage", {"message_quota_exceeded", "stream_limit_exceeded", "upstream_rate_limited"}),
        ("listEntities", {"upstream_rate_limited"}),
        ("getEntity", {"upstream_rate_limited"}),
        ("listMessages", {"upstream_rate_limited"}),
        ("getUsage", {"upstream_rate_limited"}),
    ],
)
def test_each_kind_of_429_is_a_schema_of_its_own_told_apart_by_a_literal_code(operation_id, codes):
    schema = BY_ID[operation_id]["responses"]["429"]["content"]["application/json"]["schema"]
    component = _component(schema["$ref"])
    variants = [_component(v["$ref"]) for v in component["oneOf"]] if "oneOf" in component else [component]

    assert {_literal(v["properties"]["code"]) for v in variants} == codes
    assert all("code" in v["required"] for v in variants)
    if len(variants) > 1:
        assert component["discriminator"]["propertyName"] == "code"
        assert set(component["discriminator"]["mapping"]) == codes


def test_a_stream_refused_for_capacity_is_a_503_with_its_literal_code():
    schema = BY_ID["sendMessage"]["responses"]["503"]["content"]["application/json"]["schema"]
    unavailable = _component(schema["$ref"])

    assert _literal(unavailable["properties"]["code"]) == "stream_capacity_reached"
    assert unavailable["required"] == ["detail"]  # the database's 503 has no code
    assert "Retry-After" in BY_ID["sendMessage"]["responses"]["503"]["headers"]


def test_a_400_types_its_errors_as_lists_of_strings_per_field():
    validation = SCHEMA["components"]["schemas"]["ValidationError"]

    assert validation["properties"]["errors"] == {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": validation["properties"]["errors"]["description"],
    }
    assert set(validation["required"]) == {"detail", "errors"}


def test_no_component_is_named_like_a_typescript_or_javascript_built_in():
    assert set(SCHEMA["components"]["schemas"]) & BUILT_INS == set()


def test_pages_always_carry_next_and_previous_and_no_answer_marks_fields_read_only():
    page = SCHEMA["components"]["schemas"]["PaginatedInviteList"]

    assert set(page["required"]) == {"count", "next", "previous", "results"}
    assert "readOnly: true" not in (ROOT / "openapi.yaml").read_text()  # a generator made unused `...Writable` types


def test_no_field_is_a_oneof_of_two_strings():
    # drf-spectacular's "email or blank" came out as `email?: string | string`
    def one_ofs(node):
        if isinstance(node, dict):
            if "oneOf" in node:
                yield node["oneOf"]
            for value in node.values():
                yield from one_ofs(value)
        elif isinstance(node, list):
            for item in node:
                yield from one_ofs(item)

    assert [o for o in one_ofs(SCHEMA) if all(v.get("type") == "string" for v in o)] == []


def test_an_invite_created_with_no_body_is_documented_as_never_expiring():
    assert "never expires" in BY_ID["createInvite"]["description"]


def test_a_streamed_answer_is_declared_apart_so_a_generated_call_s_data_is_the_json_reply_alone():
    # Generators type a call's data as the union of its 2xx answers: the streamed 200 beside the 201 made
    # sendMessage's data `string | MessageReply`.
    message = BY_ID["sendMessage"]
    success = {status for status in message["responses"] if status.startswith("2")}

    assert success == {"201"}
    assert set(message["responses"]["201"]["content"]) == {"application/json"}
    streamed = message["x-streamed-responses"]
    assert set(streamed) == {"200"} and set(streamed["200"]["content"]) == {"text/event-stream; charset=utf-8"}
    assert not [
        (op["operationId"], status)
        for _, _, op in OPERATIONS
        for status, response in op["responses"].items()
        if any(media.startswith("text/event-stream") for media in response.get("content", {}))
    ]
