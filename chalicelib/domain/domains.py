"""Domain names an org may claim, and the DNS TXT challenge that proves control.

A domain is stored in one form: trimmed, without a trailing dot, IDNA
(punycode) and lower-case, so ``Bücher.Example.`` and ``xn--bcher-kva.example``
are the same claim and compare equal with the domain part of a normalized
email (``domain.emails``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidDomain

CHALLENGE_LABEL = "_orgs-challenge"
CHALLENGE_PREFIX = "orgs-verification="
MAX_DOMAIN = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PENDING, VERIFIED = "pending", "verified"


@dataclass(frozen=True)
class DomainClaim:
    """An org's claim on a domain as stored: ``token`` is the TXT challenge's random part (public by design)."""

    org_id: str
    domain: str
    status: str
    token: str
    claimed_by: str | None
    created_at: datetime | None
    verified_at: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED


def normalize_domain(raw: object) -> str:
    """The stored form of a domain; raise InvalidDomain (400 ``invalid_domain``) when it is not one."""
    if not isinstance(raw, str):
        raise InvalidDomain()
    value = raw.strip()
    if value.endswith("."):
        value = value[:-1]
    if not value or any(ch.isspace() or ord(ch) < 32 or ch in "@/:\\" for ch in value):
        raise InvalidDomain()
    try:
        ascii_domain = value.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidDomain() from exc
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or len(ascii_domain) > MAX_DOMAIN
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidDomain()
    return ascii_domain


def domain_of_email(email: str) -> str:
    """The domain part of a normalized email."""
    return email.rpartition("@")[2]


def challenge_name(domain: str) -> str:
    """The DNS name of the TXT record that proves control of ``domain``."""
    return f"{CHALLENGE_LABEL}.{domain}"


def challenge_value(token: str) -> str:
    """The TXT record's text for a claim's random token."""
    return f"{CHALLENGE_PREFIX}{token}"
