"""What every personal operation's declaration shares: the tag, the name parameter, example bodies."""

from drf_spectacular.utils import (
    OpenApiParameter,
)

TAGS = ["personal"]

NAME = OpenApiParameter(
    "name",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.PATH,
    description="The entity's name: 1 to 255 characters, no '/', '\\' or control characters, not '.' or '..'.",
)

OWNER = "6f1c2b9e-4d3a-4b8e-9a51-0c2f7d9e1a34"
ENTITY_EXAMPLE = {
    "name": "ada",
    "display_name": "Ada",
    "description": "Remembers my reading list.",
    "status": "active",
    "owner_user_id": OWNER,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}
PAUSED_EXAMPLE = {**ENTITY_EXAMPLE, "status": "paused", "updated_at": "2026-01-06T10:00:00Z"}
MESSAGE_EXAMPLE = {
    "id": "m000000000042",
    "role": "assistant",
    "content": "Middlemarch.",
    "created_at": "2026-01-06T10:00:01Z",
}
