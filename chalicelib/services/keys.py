"""Personal API keys (``oak_``): issue, authenticate, list, revoke.

The secret is returned once and stored only as its SHA-256 (invariant 3).
A key may carry an expiry (at most ``api_key_max_days`` ahead); an expired key
authenticates nothing. Its last use is recorded at most once an hour: a
conditional update only when the stored time is older than that, so the
authentication path reads and does not write on almost every request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from ..clock import now
from ..config import get_settings
from ..domain.errors import InvalidRequest, NotFound, Unauthenticated
from ..domain.models import Principal
from ..secrets import hash_secret, new_id, new_secret
from ..storage.base import Tx, is_condition_failure
from ..storage.tokens import TokenModel, api_key_owner
from . import accounts, once

log = logging.getLogger(__name__)

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


def _to_key(item: TokenModel) -> ApiKey:
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


def new_api_key_item(account_id: str, name: str, expires_at: datetime | None = None) -> tuple[TokenModel, str]:
    """A key item (to save or put in a transaction) and its one-time secret."""
    secret = new_secret(API_KEY_PREFIX)
    item = TokenModel(
        hash_secret(secret),
        token_id=new_id("key"),
        kind="api_key",
        owner=api_key_owner(account_id),
        account_id=account_id,
        name=name,
        created_at=now(),
        expires_at=expires_at,
    )
    return item, secret


def issue(
    account_id: str, name: str, once_key: str | None = None, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key, expiring at ``expires_at`` if given (400 beyond the max setting);
    with ``once_key`` (a form's nonce) a second call issues nothing (``once.AlreadyDone``)."""
    item, secret = new_api_key_item(account_id, name, expiry(expires_at))
    if once_key is None:
        item.save(condition=TokenModel.token_hash.does_not_exist())
        return _to_key(item), secret
    tx = Tx()
    tx.put(item, condition=TokenModel.token_hash.does_not_exist())
    once.add_marker_to(tx, once_key)
    tx.commit()
    return _to_key(item), secret


def authenticate(secret: str | None) -> Principal:
    """Resolve a bearer secret to its account, or raise Unauthenticated."""
    if not secret or not _SECRET_SHAPE.match(secret):
        raise Unauthenticated()
    try:
        # Consistent: a key revoked a moment ago must already be refused.
        item = TokenModel.get(hash_secret(secret), consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthenticated() from exc
    at = now()
    if (
        item.kind != "api_key"
        or item.revoked_at is not None
        or not item.account_id
        or (item.expires_at is not None and item.expires_at <= at)
    ):
        raise Unauthenticated()
    account = accounts.get(item.account_id)
    if account is None:
        raise Unauthenticated()
    if item.last_used_at is None or item.last_used_at <= at - LAST_USED_GRANULARITY:
        _touch(item, at)
    return Principal(account_id=account.account_id, email=account.email, key_id=item.token_id)


def _touch(item: TokenModel, at: datetime) -> None:
    """Record use, at most once per hour: concurrent requests race on the condition, one wins."""
    stale = TokenModel.last_used_at.does_not_exist() | (TokenModel.last_used_at <= at - LAST_USED_GRANULARITY)
    try:
        item.update(actions=[TokenModel.last_used_at.set(at)], condition=TokenModel.token_hash.exists() & stale)
    except UpdateError as exc:
        if not is_condition_failure(exc):
            log.warning(
                "could not record last use of an API key", extra={"key_id": item.token_id, "error": type(exc).__name__}
            )
    except PynamoDBException as exc:
        # Bookkeeping only: a throttled write must not turn a valid key away.
        log.warning(
            "could not record last use of an API key", extra={"key_id": item.token_id, "error": type(exc).__name__}
        )


def list_keys(account_id: str) -> list[ApiKey]:
    items = TokenModel.by_owner.query(api_key_owner(account_id))
    return [_to_key(i) for i in items]


def revoke(account_id: str, key_id: str) -> None:
    """Revoke one of the caller's keys; other accounts' keys are simply not found."""
    matches = list(TokenModel.by_owner.query(api_key_owner(account_id), TokenModel.token_id == key_id))
    if not matches:
        raise NotFound("No such API key.")
    item = matches[0]
    if item.revoked_at is not None:
        return
    try:
        item.update(
            actions=[TokenModel.revoked_at.set(now()), TokenModel.revoked_reason.set("revoked_by_owner")],
            condition=TokenModel.token_hash.exists(),
        )
    except DoesNotExist as exc:  # pragma: no cover - deleted concurrently
        raise NotFound("No such API key.") from exc
