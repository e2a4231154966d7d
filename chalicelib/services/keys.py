"""Personal API keys (``oak_``): issue, authenticate, list, revoke.

The secret is returned once and stored only as its SHA-256 (invariant 3).
A key may carry an expiry (at most ``api_key_max_days`` ahead); an expired key
authenticates nothing. Its last use is recorded at most once an hour: a
conditional update only when the stored time is older than that, so the
authentication path reads and does not write on almost every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..clock import now
from ..config import get_settings
from ..domain.errors import InvalidRequest, NotFound, Unauthenticated
from ..domain.models import Principal
from ..domain.tokens import StoredToken, TokenKind, needs_touch, usable_api_key
from ..secrets import hash_secret, new_id, new_secret
from ..storage import tokens as token_rows
from ..storage.base import Tx
from ..storage.tokens import api_key_owner
from . import accounts, once

API_KEY_PREFIX = "oak"
_SECRET_SHAPE = re.compile(r"^oak_[A-Za-z0-9_-]{20,100}$")
LAST_USED_GRANULARITY = timedelta(hours=1)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at is not None and self.expires_at <= now() else "active"


def _to_key(item: StoredToken) -> ApiKey:
    return ApiKey(
        key_id=item.token_id,
        name=item.name or "",
        created_at=item.created_at,
        last_used_at=item.last_used_at,
        revoked_at=item.revoked_at,
        expires_at=item.expires_at,
    )


def expiry(requested: datetime | None, at: datetime | None = None) -> datetime | None:
    """A new key's expiry: none unless asked for, else within (now, now + api_key_max_days]."""
    if requested is None:
        return None
    max_days = get_settings().api_key_max_days
    start = at or now()
    if requested.tzinfo is None:
        raise InvalidRequest(
            "expires_at needs a time zone (use Z for UTC).",
            details=[{"field": "expires_at", "problem": "timezone_missing"}],
        )
    if requested <= start:
        raise InvalidRequest(
            "expires_at must be in the future.", details=[{"field": "expires_at", "problem": "in_the_past"}]
        )
    if requested > start + timedelta(days=max_days):
        raise InvalidRequest(
            f"expires_at may be at most {max_days} days from now.",
            details=[{"field": "expires_at", "problem": "beyond_max_lifetime"}],
        )
    return requested


def new_api_key_item(account_id: str, name: str, expires_at: datetime | None = None) -> tuple[StoredToken, str]:
    """A key (to save or put in a transaction) and its one-time secret."""
    secret = new_secret(API_KEY_PREFIX)
    item = StoredToken(
        token_hash=hash_secret(secret),
        token_id=new_id("key"),
        kind=TokenKind.API_KEY,
        owner=api_key_owner(account_id),
        account_id=account_id,
        name=name,
        created_at=now(),
        expires_at=expires_at,
    )
    return item, secret


def add_new_key_to(tx: Tx, account_id: str, name: str) -> tuple[StoredToken, str]:
    """A new key put in the caller's transaction (a redeemed link or an accepted invitation), and its secret."""
    item, secret = new_api_key_item(account_id, name)
    token_rows.add_to(tx, item)
    return item, secret


def issue(
    account_id: str, name: str, once_key: str | None = None, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key, expiring at ``expires_at`` if given (400 beyond the max setting);
    with ``once_key`` (a form's nonce) a second call issues nothing (``once.AlreadyDone``)."""
    item, secret = new_api_key_item(account_id, name, expiry(expires_at))
    if once_key is None:
        token_rows.save(item)
        return _to_key(item), secret
    tx = Tx()
    token_rows.add_to(tx, item)
    once.add_marker_to(tx, once_key)
    tx.commit()
    return _to_key(item), secret


def authenticate(secret: str | None) -> Principal:
    """Resolve a bearer secret to its account, or raise Unauthenticated."""
    if not secret or not _SECRET_SHAPE.match(secret):
        raise Unauthenticated()
    # Consistent: a key revoked a moment ago must already be refused.
    item = token_rows.get(hash_secret(secret))
    at = now()
    if item is None or not usable_api_key(item, at):
        raise Unauthenticated()
    assert item.account_id is not None
    account = accounts.get(item.account_id)
    if account is None:
        raise Unauthenticated()
    if needs_touch(item.last_used_at, at, LAST_USED_GRANULARITY):
        token_rows.record_use(item, at, LAST_USED_GRANULARITY)
    return Principal(account_id=account.account_id, email=account.email, key_id=item.token_id)


def list_keys(account_id: str) -> list[ApiKey]:
    return [_to_key(i) for i in token_rows.owned_by(api_key_owner(account_id))]


def revoke(account_id: str, key_id: str) -> None:
    """Revoke one of the caller's keys; other accounts' keys are simply not found."""
    item = token_rows.find(api_key_owner(account_id), key_id)
    if item is None:
        raise NotFound("No such API key.")
    if item.revoked_at is not None:
        return
    if not token_rows.revoke(item.token_hash, "revoked_by_owner", now()):  # pragma: no cover - deleted concurrently
        raise NotFound("No such API key.")
