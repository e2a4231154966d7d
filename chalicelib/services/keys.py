"""Personal API keys (``oak_``): issue, authenticate, list, revoke.

The secret is returned once and stored only as its SHA-256 (invariant 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..clock import now
from ..domain.errors import NotFound, Unauthenticated
from ..domain.models import Principal
from ..secrets import hash_secret, new_id, new_secret
from ..storage.base import TransactionCancelled, Tx
from ..storage.tokens import TokenModel, api_key_owner
from . import accounts, once

API_KEY_PREFIX = "oak"
_SECRET_SHAPE = re.compile(r"^oak_[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "active"


def _to_key(item: TokenModel) -> ApiKey:
    return ApiKey(
        key_id=item.token_id,
        name=item.name or "",
        created_at=item.created_at,
        last_used_at=item.last_used_at,
        revoked_at=item.revoked_at,
    )


def new_api_key_item(account_id: str, name: str) -> tuple[TokenModel, str]:
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
    )
    return item, secret


def issue(account_id: str, name: str, once_key: str | None = None) -> tuple[ApiKey, str]:
    """A new key; with ``once_key`` (a form's nonce) a second call issues nothing (``once.AlreadyDone``)."""
    item, secret = new_api_key_item(account_id, name)
    if once_key is None:
        item.save(condition=TokenModel.token_hash.does_not_exist())
        return _to_key(item), secret
    tx = Tx()
    tx.put(item, condition=TokenModel.token_hash.does_not_exist())
    marker = once.add_marker_to(tx, once_key)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if marker in exc.failed_indexes():
            raise once.AlreadyDone() from exc
        raise
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
    if item.kind != "api_key" or item.revoked_at is not None or not item.account_id:
        raise Unauthenticated()
    account = accounts.get(item.account_id)
    if account is None:
        raise Unauthenticated()
    return Principal(account_id=account.account_id, email=account.email, key_id=item.token_id)


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
