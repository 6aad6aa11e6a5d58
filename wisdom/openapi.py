"""The OpenAPI contract's shared pieces, and `operation()`, which every view's `@extend_schema` goes through.

`operation()` builds one operation's schema from three facts: its id, who may call it (PUBLIC, PERSON,
PERSON_WITHOUT_API_KEY or SERVICE) and the statuses only it answers; it adds what the caller kind and a request
body bring (the credential headers, 400 and 401; 411, 413 and 415) and the 503 every route can answer. `postprocess`
(a drf-spectacular hook) adds what is true of every operation: X-Request-ID in and out, Retry-After on
every 429 and 503; a streamed answer under `x-streamed-responses`, beside the typed ones.
tests/test_contract_statuses.py provokes each declared status of each operation.

Security: every authenticated operation lists the bearer JWT only. The other ways in (the service key,
with X-On-Behalf-Of for a person's routes; a personal API key in X-API-Key where one is accepted) are optional
header parameters: a generated client applies every scheme an operation lists, so listing the service key made
`auth: () => token` send the JWT as X-Service-Key.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers

from wisdom.errors import NON_FIELD_ERRORS, ServiceUnavailable

PUBLIC = "public"  # no credentials
PERSON = "person"  # a user: their JWT, their API key, or the service key acting for them with X-On-Behalf-Of
PERSON_WITHOUT_API_KEY = "person-without-api-key"  # as PERSON, but an API key is refused (403)
SERVICE = "service"  # the service key alone, or a staff user (JWT, or the service key acting for them)
CALLERS = (PUBLIC, PERSON, PERSON_WITHOUT_API_KEY, SERVICE)


# --- error bodies -----------------------------------------------------------------------------------------


class LiteralField(serializers.CharField):
    """A string that is always `value`: documented as a one-value enum, so a generated type is the literal."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(**kwargs)


class LiteralFieldSchema(OpenApiSerializerFieldExtension):
    target_class = LiteralField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": [self.target.value]}


class ApiErrorSerializer(serializers.Serializer):
    """Component `ApiError`: not `Error`, which a generated TypeScript type would shadow."""

    detail = serializers.CharField(help_text="One line a person can read.")


class ValidationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The first message, prefixed with its field: `field: message`.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=f"Messages per field; those that belong to no field (a body that is not JSON, a rule across "
        f"fields, a header) under `{NON_FIELD_ERRORS}`.",
    )


def error(description: str, example: str | None = None) -> OpenApiResponse:
    examples = [OpenApiExample(description, value={"detail": example}, response_only=True)] if example else []
    return OpenApiResponse(ApiErrorSerializer, description=description, examples=examples)


def validation_error(description: str, examples: dict[str, dict[str, list[str]]]) -> OpenApiResponse:
    """A 400 with `errors` as given per example name, and `detail` made from them as the server makes it."""
    return OpenApiResponse(
        ValidationErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(name, value={"detail": _summary(errors), "errors": errors}, response_only=True)
            for name, errors in examples.items()
        ],
    )


def _summary(errors: dict[str, list[str]]) -> str:
    field, messages = next(iter(errors.items()))
    return messages[0] if field == NON_FIELD_ERRORS else f"{field}: {messages[0]}"


NOT_JSON = "JSON parse error - Expecting value: line 1 column 1 (char 0)"
BAD_REQUEST = validation_error(
    "Invalid input.",
    {
        "A field": {"email": ["Enter a valid email address."]},
        "An undocumented field": {"plan": ["Unknown field."]},
        "Not JSON": {NON_FIELD_ERRORS: [NOT_JSON]},
    },
)
BAD_HEADER = validation_error(
    "A credential header is malformed: X-On-Behalf-Of is not a user id, or X-Service-Key came without it on a "
    "route for a person.",
    {"X-On-Behalf-Of": {NON_FIELD_ERRORS: ["X-On-Behalf-Of must be a user id (a UUID)."]}},
)
UNAUTHENTICATED = error(
    "No valid credentials: none, an expired or revoked token, an unknown, revoked or expired API key, a wrong "
    "service key, or an X-On-Behalf-Of that names no active user.",
    exceptions.NotAuthenticated.default_detail,
)
NOT_ACCEPTABLE = error("The Accept header names no JSON type.", exceptions.NotAcceptable.default_detail)
LENGTH_REQUIRED = error("A body sent chunked, without Content-Length.", "A request body needs a Content-Length header.")
PAYLOAD_TOO_LARGE = error("Request body over the size limit.", "Request body is too large; the limit is 1048576 bytes.")
UNSUPPORTED_MEDIA_TYPE = error(
    "The body is not sent as application/json.", 'Unsupported media type "text/plain" in request.'
)
THROTTLED = error("Too many requests from this address; see Retry-After.", "Request was throttled.")
SERVICE_UNAVAILABLE = error("The database could not serve in time; see Retry-After.", ServiceUnavailable.default_detail)

BODY_ERRORS = {411: LENGTH_REQUIRED, 413: PAYLOAD_TOO_LARGE, 415: UNSUPPORTED_MEDIA_TYPE}


# --- headers ----------------------------------------------------------------------------------------------

SERVICE_KEY_HEADER = "X-Service-Key"
ON_BEHALF_OF_HEADER = "X-On-Behalf-Of"
REQUEST_ID_HEADER = "X-Request-ID"
API_KEY_HEADER = "X-API-Key"

_SERVICE_KEY_FOR_A_PERSON = (
    "Internal services only, never a browser: the service key, with X-On-Behalf-Of naming the user "
    "to act for (instead of a bearer token; when present it alone decides)."
)
_ON_BEHALF_OF_A_PERSON = "With X-Service-Key: the id (a UUID) of the user to act for; ignored without it."
_SERVICE_KEY = {
    PERSON: _SERVICE_KEY_FOR_A_PERSON,
    PERSON_WITHOUT_API_KEY: _SERVICE_KEY_FOR_A_PERSON,
    SERVICE: "Internal services only, never a browser: the service key, alone to act as the service itself, "
    "or with X-On-Behalf-Of naming a staff user (instead of a bearer token; when present it alone decides).",
}
_ON_BEHALF_OF = {
    PERSON: _ON_BEHALF_OF_A_PERSON,
    PERSON_WITHOUT_API_KEY: _ON_BEHALF_OF_A_PERSON,
    SERVICE: "With X-Service-Key: the id (a UUID) of the staff user to act for; ignored without it.",
}


def caller_headers(caller: str) -> list[OpenApiParameter]:
    """The optional header parameters through which internal services call an operation of this kind."""
    if caller == PUBLIC:
        return []
    api_key = [
        OpenApiParameter(
            API_KEY_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="A personal API key, instead of a bearer token (ignored when one is sent too).",
        )
    ]
    return [
        *(api_key if caller == PERSON else []),
        OpenApiParameter(
            SERVICE_KEY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, description=_SERVICE_KEY[caller]
        ),
        OpenApiParameter(
            ON_BEHALF_OF_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, description=_ON_BEHALF_OF[caller]
        ),
    ]


# --- one operation ----------------------------------------------------------------------------------------


def operation(
    operation_id: str,
    *,
    caller: str,
    responses: dict,
    body: bool = False,
    parameters: list | None = None,
    **kwargs,
) -> dict:
    """`@extend_schema` arguments for one operation, declaring exactly the statuses it can answer.

    `responses` holds its successes and the errors only it answers (each route's own 400 included). Added
    here: for PERSON and SERVICE the credential headers, 400 (a malformed one; `responses` may give a 400
    that covers it) and 401; with `body` 400, 411, 413 and 415; 503 always.
    """
    if caller not in CALLERS:
        raise ValueError(f"caller must be one of {CALLERS}")
    shared: dict = {503: SERVICE_UNAVAILABLE}
    if caller != PUBLIC:
        shared |= {400: BAD_HEADER, 401: UNAUTHENTICATED}
    if body:
        shared |= {400: BAD_REQUEST, **BODY_ERRORS}
    declared = shared | responses
    return {
        "operation_id": operation_id,
        "responses": dict(sorted(declared.items(), key=lambda item: _status_of(item[0]))),
        "parameters": [*(parameters or []), *caller_headers(caller)],
        **({"auth": []} if caller == PUBLIC else {}),
        **kwargs,
    }


def _status_of(key) -> int:
    return int(key[0] if isinstance(key, tuple) else key)  # (200, "text/event-stream") keys a media type


# --- what is true of every operation (a drf-spectacular post-processing hook) -----------------------------

HEADERS = {
    REQUEST_ID_HEADER: {
        "description": "The request's id: the caller's X-Request-ID when it is 1 to 128 letters, digits and "
        "`-_.:`, else a new one. It is in the server's log line for this request.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string"},
    },
}


def postprocess(result: dict, generator, request, public) -> dict:
    """X-Request-ID accepted by every operation and on every answer; Retry-After on every 429 and 503;
    response components without readOnly (COMPONENT_SPLIT_REQUEST already made them answer-only, and readOnly
    made generators emit unused `...Writable` types); no `oneOf` of a string and a blank one."""
    components = result.setdefault("components", {})
    components["headers"] = HEADERS
    request_id = {
        "in": "header",
        "name": REQUEST_ID_HEADER,
        "schema": {"type": "string"},
        "description": "An id of the caller's own for this request; see the X-Request-ID answer header.",
    }
    for item in result.get("paths", {}).values():
        for operation_ in item.values():
            operation_.setdefault("parameters", []).append(request_id)
            for status, response in operation_.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers[REQUEST_ID_HEADER] = {"$ref": f"#/components/headers/{REQUEST_ID_HEADER}"}
                if status in ("429", "503"):
                    headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
                response["headers"] = dict(sorted(headers.items()))
            _set_streamed_responses_apart(operation_)
    for schema in components.get("schemas", {}).values():
        for prop in schema.get("properties", {}).values():
            prop.pop("readOnly", None)
    _plain_strings(result)
    _inline_literals(result)
    _closed_request_bodies(result)
    return result


def _closed_request_bodies(result: dict) -> None:
    """A request body takes its documented fields only (wisdom/bodies.py answers any other with 400): each
    body's schema says so with `additionalProperties: false`."""
    schemas = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for operation_ in item.values():
            for media in operation_.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if ref.startswith("#/components/schemas/"):
                    schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] = False


STREAMED_RESPONSES = "x-streamed-responses"


def _set_streamed_responses_apart(operation_: dict) -> None:
    """An answer that is only `text/event-stream` moves from `responses` to `x-streamed-responses`: generators type
    a call's data as the union of its 2xx answers, so a streamed 200 beside a JSON 201 made every caller narrow
    `string | MessageReply`. Declared beside them, it stays machine-readable and out of the generated success type."""
    responses = operation_.get("responses", {})
    streamed = {
        status: response
        for status, response in responses.items()
        if response.get("content") and all(key.startswith("text/event-stream") for key in response["content"])
    }
    for status in streamed:
        del responses[status]
    if streamed:
        operation_[STREAMED_RESPONSES] = streamed


def _inline_literals(result: dict) -> None:
    """A one-value enum (a LiteralField, `token_type`) written where it is used, not as a component of its own:
    its generated type is then the literal itself (`code: 'entity_quota_exceeded'`)."""
    schemas = result.get("components", {}).get("schemas", {})
    literals = {
        f"#/components/schemas/{name}": schema
        for name, schema in schemas.items()
        if len(schema.get("enum", ())) == 1 and schema.get("type") == "string"
    }

    def inline(node) -> None:
        items = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for item in items:
            if isinstance(item, dict) and item.get("$ref") in literals:
                ref = item.pop("$ref")
                item.update({key: value for key, value in literals[ref].items() if key != "description"})
            inline(item)

    inline(result)
    for ref in literals:
        del schemas[ref.rsplit("/", 1)[1]]


def _plain_strings(node) -> None:
    """drf-spectacular writes an optional email or pattern as `oneOf: [{format/pattern}, {maxLength: 0}]`, which
    generators type as `string | string`: one string schema says the same (a pattern that takes "" already
    takes a blank; `format: email` cannot, so it moves into the description)."""
    if isinstance(node, list):
        for item in node:
            _plain_strings(item)
        return
    if not isinstance(node, dict):
        return
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and len(one_of) == 2 and one_of[1] == {"type": "string", "maxLength": 0}:
        inner = node.pop("oneOf")[0]
        if inner.pop("format", None) == "email":
            node["description"] = " ".join(filter(None, [node.get("description"), "An email address, or empty."]))
        node.update(inner)
    for value in node.values():
        _plain_strings(value)


# --- the API docs page's copy (/api/schema/docs, read by Swagger UI at /api/docs) ------------------------------

# Header parameters that a scheme of Swagger UI's Authorize dialog sends instead, per scheme name.
SCHEME_HEADERS = {"apiKey": API_KEY_HEADER, "serviceKey": SERVICE_KEY_HEADER}
DOCS_PAGE_TITLE = f"API docs · {settings.PRODUCT_NAME}"


def postprocess_for_docs(result: dict, generator, request, public) -> dict:
    """Every operation lists each scheme it takes (the bearer token, else an API key, else the service key), and
    the header parameters those schemes send leave its parameter list. Swagger UI sends an authorized scheme only
    where an operation lists it; a generated client sends every listed one, so `/api/schema` keeps the bearer alone."""
    for item in result.get("paths", {}).values():
        for operation_ in item.values():
            if operation_.get("security") != [{"jwtAuth": []}]:
                continue
            parameters = operation_.get("parameters", [])
            taken = {p["name"] for p in parameters if p.get("in") == "header"}
            schemes = [name for name, header in SCHEME_HEADERS.items() if header in taken]
            operation_["security"] = [{"jwtAuth": []}, *({name: []} for name in schemes)]
            sent = {SCHEME_HEADERS[name] for name in schemes}
            operation_["parameters"] = [p for p in parameters if not (p.get("in") == "header" and p["name"] in sent)]
    return result


DOCS_PAGE_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        *settings.SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"],
        "wisdom.openapi.postprocess_for_docs",
    ]
}
