"""The error bodies the API answers, as tests expect them (wisdom/errors.py's one shape)."""

NON_FIELD_ERRORS = "non_field_errors"


def bad_request(message: str, field: str = NON_FIELD_ERRORS) -> dict:
    """A 400 with one message: `detail` names the field unless the message belongs to none."""
    detail = message if field == NON_FIELD_ERRORS else f"{field}: {message}"
    return {"detail": detail, "errors": {field: [message]}}
