"""Ids and secrets: what clients receive is random; what we store is a hash.

Invariant: no secret a client ever received is stored or logged in plaintext.
API keys, access tokens and SCIM tokens are stored as SHA-256 of the secret
(they are 256-bit random, so a plain hash is safe); one-time links are
HMAC-ed with the server-side link key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32


def new_id(prefix: str) -> str:
    """Opaque, unguessable identifier such as ``acc_3k1f...``."""
    return f"{prefix}_{secrets.token_hex(10)}"


def new_secret(prefix: str) -> str:
    """A bearer secret with a readable prefix (``oak_``, ``oat_``, ``osc_``)."""
    return f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest: the only form in which a bearer secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two digests (a client secret's hash against the stored ones)."""
    return hmac.compare_digest(a.encode(), b.encode())
