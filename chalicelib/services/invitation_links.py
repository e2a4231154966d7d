"""Invitation links: minted from a stored nonce and the server key, never stored.

A link token is ``<org_id>.<invitation_id>.<nonce>.<mac>`` where ``nonce`` is
random per (re)issue and stored on the invitation, and
``mac = HMAC-SHA256(link_signing_key, org_id, invitation_id, nonce)``.
Why this shape:
- the stream handler that sends the email sees only the stored item; with the
  key it rebuilds the link from the nonce, so the link never has to travel
  through the stream, a queue or a table;
- a table dump alone reveals nothing usable: without the key no mac can be
  made (the secret part is never stored, not even hashed);
- a token can be checked as authentic without a read, so an old link of a
  reissued invitation is recognised as superseded (410) rather than unknown,
  and forged tokens cost no lookup beyond the mac check.
Rotating the key invalidates every outstanding link (reissue mints new ones).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from ..config import get_settings, link_signing_key

_TOKEN = re.compile(
    r"^(?P<org>org_[A-Za-z0-9]{1,64})\.(?P<inv>inv_[0-9a-f]{24})\.(?P<nonce>[A-Za-z0-9_-]{22})\.(?P<mac>[A-Za-z0-9_-]{43})$"
)


@dataclass(frozen=True)
class LinkToken:
    org_id: str
    invitation_id: str
    nonce: str


def new_nonce() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def _mac(org_id: str, invitation_id: str, nonce: str) -> str:
    key = link_signing_key().encode("utf-8")
    digest = hmac.new(key, f"invitation-link\n{org_id}\n{invitation_id}\n{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(org_id: str, invitation_id: str, nonce: str) -> str:
    """The link token of one issue of an invitation."""
    return f"{org_id}.{invitation_id}.{nonce}.{_mac(org_id, invitation_id, nonce)}"


def accept_url(token: str) -> str:
    """Where the email points: the console's invitation page (the JSON preview is /v1/invitations/<token>)."""
    return f"{get_settings().public_base_url.rstrip('/')}/invitations/{token}"


def parse(token: str) -> LinkToken | None:
    """The parts of an authentic token, or None for anything else (malformed or forged)."""
    match = _TOKEN.match(token or "")
    if not match:
        return None
    expected = _mac(match["org"], match["inv"], match["nonce"])
    if not hmac.compare_digest(expected.encode(), match["mac"].encode()):
        return None
    return LinkToken(org_id=match["org"], invitation_id=match["inv"], nonce=match["nonce"])
