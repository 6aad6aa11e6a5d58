import json
import logging
import random

from wisdom import logging as wisdom_logging
from wisdom import request_context
from wisdom.logging import JsonFormatter, RedactSecretsFilter, RequestContextFilter, redact_path, redact_text


def _record(msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord("wisdom.test", logging.INFO, __file__, 1, msg, args, None)


def test_redaction_removes_jwts_bearer_credentials_and_secret_fields():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.c2lnbmF0dXJl"
    text = f'Authorization: Bearer abc.def {jwt} password=hunter2 "api_key": "k-123" token=xyz'

    redacted = redact_text(text)

    for secret in [jwt, "abc.def", "hunter2", "k-123", "xyz"]:
        assert secret not in redacted


def test_redaction_removes_configured_keys_and_password_hashes(settings):
    settings.INTUNO_AGENTS_API_KEY = "upstream-shared-key-42"

    hashed = "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA"

    redacted = redact_text(f"calling with upstream-shared-key-42 and {hashed}")

    assert "upstream-shared-key-42" not in redacted
    assert "c2FsdA" not in redacted


def test_the_filter_redacts_formatted_arguments_too():
    record = _record("login for %s with %s", "a@example.com", "Bearer secret-value")

    RedactSecretsFilter().filter(record)

    assert "secret-value" not in record.getMessage()
    assert "a@example.com" in record.getMessage()


def test_invite_tokens_are_masked_in_paths():
    assert redact_path("/invites/abc123DEF/preview") == "/invites/[token]/preview"
    assert redact_path("/invites/abc123DEF/redeem") == "/invites/[token]/redeem"
    assert redact_path("/personal/entities/x") == "/personal/entities/x"


def test_json_lines_carry_the_current_request_id():
    request_context.begin("rid-42")
    try:
        record = _record("hello %s", "world")
        RequestContextFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_context.end()

    assert line["request_id"] == "rid-42"
    assert line["message"] == "hello world"
    assert line["level"] == "INFO" and line["logger"] == "wisdom.test" and line["time"]


def test_invite_tokens_are_masked_inside_messages_too():
    assert redact_text("Internal Server Error: /invites/abc123DEF/redeem") == (
        "Internal Server Error: /invites/[token]/redeem"
    )


def test_a_separate_jwt_signing_key_is_redacted(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "a-separate-jwt-signing-key-77"}

    assert "a-separate-jwt-signing-key-77" not in redact_text("key a-separate-jwt-signing-key-77 leaked")


def _texts_near_each_pattern(count: int) -> list[str]:
    """Log-like text built from pieces that match a redaction pattern, almost match one, or match none."""
    pieces = [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "eyJonly", "eyJa.b", "Bearer abc", "bearer\tx", "Bearer ",
        "BEARER", "bEaReR y", "password=hunter2", "PassWord: 'x'", '"api_key": "k-1"', "service-key=", "token",
        "Token=", "authorization:x", "argon2$argon2id$v=19", "md5$", "scrypt", "/invites/abc/redeem",
        "/invites/abc/other",
        "/invites//preview", "abcd1234.abcdefghijklmnopqrstuvwxyz012345", "abcd1234.short", "GET /healthz 200",
        "POST /personal/entities/e/messages 201", "b3231828-5395-40e1-a0af-6b3fb10aeae4", "done", " ", "=", ":",
        '"', "'", "\n", "é", "upstream-shared-key-42", "upstream-shared", "$",
    ]  # fmt: skip
    chooser = random.Random(18)
    return ["".join(chooser.choices(pieces, k=chooser.randint(1, 6))) for _ in range(count)]


def _substitute_every_pattern(text: str, secrets: tuple[str, ...]) -> str:
    """Every substitution applied whatever the text holds, in redact_text's order."""
    for _, pattern, replacement in wisdom_logging._SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def test_text_is_redacted_exactly_as_every_substitution_would_redact_it(settings):
    settings.INTUNO_AGENTS_API_KEY = "upstream-shared-key-42"
    secrets = wisdom_logging._configured_secrets()
    assert "upstream-shared-key-42" in secrets

    texts = _texts_near_each_pattern(5000)
    differing = [text for text in texts if redact_text(text) != _substitute_every_pattern(text, secrets)]

    assert differing == []
    changed = sum(redact_text(text) != text for text in texts)
    assert 1000 < changed < 4000  # the corpus holds text with secrets and text without
