"""The one rule by which two spellings of an email are the same account: `email_key`.

Computed here, in Python, and stored in User.email_key (unique), so storing, comparing and the database
constraint agree on SQLite and PostgreSQL alike; SQL's LOWER() differs between the two and from Python.

The local part is compared as Django's email validator reads it: case-insensitively (NFKC, then case
folding), with the only non-ASCII letters the validator lets through there (U+0130 dotted capital I,
U+0131 dotless i, U+017F long s, U+212A Kelvin sign: its case-insensitive match reads them as i, i, s, k)
folded to those ASCII letters. So admİn@ is admin@, and whoever registered İvy@ logs in with İvy@ or
ivy@. The domain is compared as DNS does: IDNA (bücher.de is xn--bcher-kva.de), lower case.
"""

import unicodedata

from django.core.exceptions import ValidationError

# RFC 5321's longest forward path: 64 (local part) + "@" + 255 (domain).
EMAIL_KEY_MAX_LENGTH = 320
EMAIL_TOO_LONG = "This email address is too long."
EMAIL_TAKEN = "An account with this email already exists."

_LOOKALIKES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def email_key(email: str) -> str:
    """The comparable form of an email: equal keys are the same account."""
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return _fold(domain)
    return f"{_fold(local)}@{_domain_key(domain)}"


def validate_email_key_length(email: str) -> None:
    """A validator for the email field: refuses an address whose key could not be stored."""
    if len(email_key(email)) > EMAIL_KEY_MAX_LENGTH:
        raise ValidationError(EMAIL_TOO_LONG, code="max_length")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_LOOKALIKES).casefold()


def _domain_key(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:  # an empty or over-long label, or a character IDNA refuses
        return _fold(domain)
