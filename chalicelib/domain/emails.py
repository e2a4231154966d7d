"""Email address syntax: what we accept as an invitee or account email.

RFC 5321 lengths (local part <= 64, address <= 254), a dot-atom local part,
and a domain of LDH labels; internationalized domains are accepted and
stored in their IDNA (punycode) form so that lookups compare equal.
"""

from __future__ import annotations

import re

MAX_ADDRESS = 254
MAX_LOCAL = 64
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidEmail(ValueError):
    """Not an address we can send to."""


def normalize_email(raw: str) -> str:
    """Trim, lower-case and validate an address; raise InvalidEmail when unusable."""
    if not isinstance(raw, str):
        raise InvalidEmail("not a string")
    value = raw.strip()
    if not value or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise InvalidEmail("empty or contains whitespace/control characters")
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidEmail("missing @")
    if len(local) > MAX_LOCAL or not _LOCAL.match(local):
        raise InvalidEmail("invalid local part")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidEmail("invalid domain") from exc
    labels = ascii_domain.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidEmail("invalid domain")
    address = f"{local.lower()}@{'.'.join(labels)}"
    if len(address) > MAX_ADDRESS:
        raise InvalidEmail("address too long")
    return address


def is_valid_email(raw: str) -> bool:
    try:
        normalize_email(raw)
    except InvalidEmail:
        return False
    return True
