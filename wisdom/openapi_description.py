"""The API description the schema and its docs pages open with, and drf-spectacular's settings that carry it
(settings.SPECTACULAR_SETTINGS); no imports, so settings.py can read them."""

API_DESCRIPTION = """The public API of Intuno Personal: accounts, personal entities and invites.

**Authentication.** A person sends `Authorization: Bearer <access_token>` (from `login`, `refreshTokens` or
`redeemInvite`); that is the one scheme each operation lists in `/api/schema` (and `openapi.yaml`), so a generated
client configured with a token sends only that. Internal services (never a browser) may instead send
`X-Service-Key`, which then decides alone: on a person's routes with `X-On-Behalf-Of: <user id>`; on the invite
admin routes alone, or acting for a staff user. Both are documented as optional header parameters of the
operations that accept them. The API docs page (`/api/docs`) reads `/api/schema/docs`, where they are listed as
schemes too, so its Authorize dialog sends each where an operation takes it.

**Errors.** Every error body has `detail`, one line a person can read. A 400 adds `errors`: `{field: [messages]}`,
with messages that belong to no field under `non_field_errors`. A 429 from the plan's limits or the agents service
carries a literal `code` (`entity_quota_exceeded`, `message_quota_exceeded`, `upstream_rate_limited`). Each
operation declares exactly the statuses it can answer; those that take a body also answer 411 (a chunked body),
413 (over the size limit) and 415 (not JSON), as any request that sends a body does. 503 means the database
could not serve in time (with Retry-After).

Every answer carries `X-Request-ID`: the caller's own when it sent a sane one, else a new one."""

OPENAPI_SETTINGS = {
    "TITLE": "wisdom",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Each operation's id is given where it is declared (wisdom.openapi.operation); the hook adds the shared headers.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "wisdom.openapi.postprocess"],
    # The `status` enums (entities, invites, exports, the literal "pending") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "EntityStatusEnum": "personal.serializers.ENTITY_STATUSES",
        "InviteStatusEnum": "invites.models.InviteStatus",
        "ExportStatusEnum": "accounts.models.ExportStatus",
        "PendingStatusEnum": [("pending", "pending")],
    },
}
