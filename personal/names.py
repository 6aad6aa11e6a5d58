"""The one rule for an entity's name, shared by the views and the agents double. Plain Python, no Django.

A name travels upstream as one URL path segment, so it may hold no separator, no traversal and no
control characters.
"""

import unicodedata

NAME_MAX_LENGTH = 255


def entity_name_problem(name: object) -> str | None:
    """Why `name` cannot be an entity name, or None when it can."""
    if not isinstance(name, str) or not name:
        return "Entity name must not be empty."
    if len(name) > NAME_MAX_LENGTH:
        return f"Entity name must be at most {NAME_MAX_LENGTH} characters."
    if name in (".", ".."):
        return "Entity name must not be '.' or '..'."
    if "/" in name or "\\" in name:
        return "Entity name must not contain '/' or '\\'."
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "Entity name must not contain control characters."
    return None
