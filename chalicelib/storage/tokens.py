"""Tokens table: every bearer credential, by the SHA-256 of its secret.

Keys: ``token_hash`` (hash). ``kind`` is one of ``api_key`` (oak_),
``access_token`` (oat_), ``scim_token`` (osc_), ``login_code``.
Index: GSI ``by_owner`` on (``owner``, ``token_id``) for listing and the
revocation cascade. ``owner`` is ``acct#<account>`` for API keys,
``org#<org>#acct#<account>`` for access tokens, ``org#<org>#scim`` for SCIM
tokens, ``login#<account>`` for login codes.
Access tokens stamp the member's ``seat_generation`` and ``joined_at``
(``member_joined_at``) at issue: a token outlives neither its seat nor its
membership, even when a seat or membership is granted again later.
SCIM tokens name their maker: ``account_id`` is the admin who created one and
``member_joined_at`` that admin's membership; the token works only while
that membership still may manage SCIM (invariant 10). ``notice_pending``
holds the revocation reason until the remaining admins were emailed about it.

This module is the table's repository: services read and write tokens only
through its functions, which take and return ``domain.tokens.StoredToken``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain.tokens import SeatStamp, StoredToken
from . import base
from .base import (
    AlreadyApplied,
    Failure,
    Tx,
    TxItem,
    answered,
    is_condition_failure,
    read_consistent,
    register,
    retry_races,
    take_flag,
)
from .members import MemberModel, seat_stamp_of

log = logging.getLogger(__name__)


def api_key_owner(account_id: str) -> str:
    return f"acct#{account_id}"


def access_token_owner(org_id: str, account_id: str) -> str:
    return f"org#{org_id}#acct#{account_id}"


def scim_token_owner(org_id: str) -> str:
    return f"org#{org_id}#scim"


class TokensByOwner(GlobalSecondaryIndex["TokenModel"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    token_id = UnicodeAttribute(range_key=True)


@register
class TokenModel(Model):
    class Meta:
        base_name = "tokens"
        table_name = "tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    token_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    owner = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    org_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    seat_generation = NumberAttribute(null=True)
    member_joined_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    notice_pending = UnicodeAttribute(null=True)
    # Set on a token issued inside a bulk call until the call's answer (which alone carries the
    # secret) is ready: such a token does not verify, so a crash in between strands no live secret.
    awaiting_handover = BooleanAttribute(null=True)

    by_owner = TokensByOwner()


def _record(item: TokenModel) -> StoredToken:
    return StoredToken(
        token_hash=item.token_hash,
        token_id=item.token_id,
        kind=item.kind,
        owner=item.owner,
        created_at=item.created_at,
        account_id=item.account_id,
        org_id=item.org_id,
        name=item.name,
        expires_at=item.expires_at,
        last_used_at=item.last_used_at,
        revoked_at=item.revoked_at,
        revoked_reason=item.revoked_reason,
        seat_generation=int(item.seat_generation or 0),
        member_joined_at=item.member_joined_at,
        created_by=item.created_by,
        notice_pending=item.notice_pending,
        awaiting_handover=bool(item.awaiting_handover),
    )


def _item(token: StoredToken) -> TokenModel:
    return TokenModel(
        token.token_hash,
        token_id=token.token_id,
        kind=token.kind,
        owner=token.owner,
        created_at=token.created_at,
        account_id=token.account_id,
        org_id=token.org_id,
        name=token.name,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        revoked_reason=token.revoked_reason,
        # Org-bound and personal tokens stamp no seat: the attribute stays absent, as it always was.
        seat_generation=token.seat_generation if token.kind == "access_token" else None,
        member_joined_at=token.member_joined_at,
        created_by=token.created_by,
        notice_pending=token.notice_pending,
        awaiting_handover=True if token.awaiting_handover else None,
    )


def _decoded(raw: dict[str, Any]) -> StoredToken:
    """A token straight from DynamoDB JSON, as ``_record(TokenModel.from_raw_data(raw))`` would give it.

    Verification's hot path: pynamodb's decoding plus the copy cost about
    0.2 ms a token; reading the few attribute types directly costs a fraction.
    """
    parse = UTCDateTimeAttribute._fast_parse_utc_date_string

    def text(name: str) -> str | None:
        value = raw.get(name)
        return value.get("S") if value else None

    def time(name: str) -> datetime | None:
        value = text(name)
        return parse(value) if value else None

    generation = raw.get("seat_generation")
    handover = raw.get("awaiting_handover")
    created = time("created_at")
    assert created is not None
    return StoredToken(
        token_hash=raw["token_hash"]["S"],
        token_id=raw["token_id"]["S"],
        kind=raw["kind"]["S"],
        owner=raw["owner"]["S"],
        created_at=created,
        seat_generation=int(generation["N"]) if generation and "N" in generation else 0,
        awaiting_handover=bool(handover.get("BOOL")) if handover else False,
        account_id=text("account_id"),
        org_id=text("org_id"),
        name=text("name"),
        expires_at=time("expires_at"),
        last_used_at=time("last_used_at"),
        revoked_at=time("revoked_at"),
        revoked_reason=text("revoked_reason"),
        member_joined_at=time("member_joined_at"),
        created_by=text("created_by"),
        notice_pending=text("notice_pending"),
    )


def _key(token_hash: str) -> dict[str, Any]:
    return {"token_hash": {"S": token_hash}}


def get(token_hash: str) -> StoredToken | None:
    """The token with this secret hash, read consistently (a revocation a moment ago is seen)."""
    params = {"TableName": TokenModel.Meta.table_name, "Key": _key(token_hash), "ConsistentRead": True}
    raw = answered(lambda: base.bound_client().get_item(**params)).get("Item")
    return _decoded(raw) if raw else None


MEMBER_FIELDS_FOR_VERIFY = ["has_seat", "seat_generation", "joined_at"]


def with_seat_stamp(token_hash: str, org_id: str, account_id: str) -> tuple[StoredToken | None, SeatStamp | None]:
    """A token and the member item it claims, in one consistent BatchGetItem (keys DynamoDB leaves
    unprocessed are read alone): verification's one request."""
    tokens_table, members_table = TokenModel.Meta.table_name, MemberModel.Meta.table_name
    member_key = {"org_id": {"S": org_id}, "account_id": {"S": account_id}}
    request = {
        tokens_table: {"Keys": [_key(token_hash)], "ConsistentRead": True},
        members_table: {
            "Keys": [member_key],
            "ConsistentRead": True,
            "ProjectionExpression": ", ".join(MEMBER_FIELDS_FOR_VERIFY),
        },
    }
    answer = answered(lambda: base.bound_client().batch_get_item(RequestItems=request))
    found = answer.get("Responses", {})
    left = answer.get("UnprocessedKeys", {})
    token_items, member_items = found.get(tokens_table, []), found.get(members_table, [])
    token = _decoded(token_items[0]) if token_items else None
    member = seat_stamp_of(MemberModel.from_raw_data(member_items[0])) if member_items else None
    if tokens_table in left:
        token = get(token_hash)
    if members_table in left:
        read = read_consistent(MemberModel, member_key, MEMBER_FIELDS_FOR_VERIFY)
        member = seat_stamp_of(read) if read else None
    return token, member


def owned_by(
    owner: str, *, after: str | None = None, limit: int | None = None, unrevoked: bool = False
) -> list[StoredToken]:
    """An owner's tokens by token id: those after ``after``, at most ``limit``; ``unrevoked``: only those."""
    items = TokenModel.by_owner.query(
        owner,
        range_key_condition=TokenModel.token_id > after if after else None,
        filter_condition=TokenModel.revoked_at.does_not_exist() if unrevoked else None,
        limit=limit,
    )
    return [_record(i) for i in items]


def find(owner: str, token_id: str) -> StoredToken | None:
    """One of an owner's tokens by its id (another owner's token is simply not found)."""
    matches = list(TokenModel.by_owner.query(owner, TokenModel.token_id == token_id))
    return _record(matches[0]) if matches else None


def add_to(tx: Tx, token: StoredToken) -> TxItem:
    """Put a new token in the transaction (a secret hash is never reused)."""
    return tx.put(_item(token), condition=TokenModel.token_hash.does_not_exist())


def save(token: StoredToken) -> None:
    """Put a new token on its own."""
    _item(token).save(condition=TokenModel.token_hash.does_not_exist())


def _unrevoked() -> Any:
    return TokenModel.token_hash.exists() & TokenModel.revoked_at.does_not_exist()


def revoke_in(
    tx: Tx, token_hash: str, reason: str, at: datetime, *, announce: bool = False, on_fail: Failure = AlreadyApplied
) -> TxItem:
    """Mark an unrevoked token revoked in the transaction (``on_fail``: what "already revoked" means).

    ``announce``: the reason is also kept as ``notice_pending`` until the
    admins were emailed (``claim_notice``).
    """
    actions = [TokenModel.revoked_at.set(at), TokenModel.revoked_reason.set(reason)]
    if announce:
        actions.append(TokenModel.notice_pending.set(reason))
    return tx.update(TokenModel(token_hash), actions, condition=_unrevoked(), on_fail=on_fail)


def revoke(token_hash: str, reason: str, at: datetime) -> bool:
    """Mark a token revoked on its own; False when it no longer exists."""
    try:
        TokenModel(token_hash).update(
            actions=[TokenModel.revoked_at.set(at), TokenModel.revoked_reason.set(reason)],
            condition=TokenModel.token_hash.exists(),
        )
    except PynamoDBException as exc:
        if is_condition_failure(exc) or isinstance(exc, DoesNotExist):
            return False
        raise
    return True


def renew_in(tx: Tx, token_hash: str, expires_at: datetime, on_fail: Failure) -> TxItem:
    """Set a new expiry on an unrevoked token in the transaction."""
    return tx.update(
        TokenModel(token_hash), [TokenModel.expires_at.set(expires_at)], condition=_unrevoked(), on_fail=on_fail
    )


HANDOVER_CHUNK = 100  # updates per transaction (DynamoDB's limit)


def hand_over(token_hashes: Sequence[str]) -> None:
    """Clear ``awaiting_handover``: one transaction per 100 tokens; a token revoked meanwhile stays revoked."""
    for start in range(0, len(token_hashes), HANDOVER_CHUNK):
        tx = Tx()
        for token_hash in token_hashes[start : start + HANDOVER_CHUNK]:
            tx.update(TokenModel(token_hash), [TokenModel.awaiting_handover.remove()], TokenModel.token_hash.exists())
        retry_races(tx.commit)


def record_use(token: StoredToken, at: datetime, every: timedelta) -> None:
    """Write the last-used time unless another request wrote one within ``every``: concurrent uses race
    on the condition and one wins. Bookkeeping only: a failure is logged, never raised, so a
    throttled write does not turn a valid credential away."""
    stale = TokenModel.last_used_at.does_not_exist() | (TokenModel.last_used_at <= at - every)
    try:
        TokenModel(token.token_hash).update(
            actions=[TokenModel.last_used_at.set(at)], condition=TokenModel.token_hash.exists() & stale
        )
    except PynamoDBException as exc:
        if not is_condition_failure(exc):
            log.warning(
                "could not record last use of a credential",
                extra={"token_id": token.token_id, "kind": token.kind, "error": type(exc).__name__},
            )


def claim_notice(token_hash: str) -> bool:
    """Take the right to announce a revocation (``notice_pending``); True when this call took it."""
    return take_flag(TokenModel(token_hash), TokenModel.notice_pending)


def release_notice(token_hash: str, reason: str) -> None:
    """Give a claimed notice back (its email could not be sent yet)."""
    TokenModel(token_hash).update(actions=[TokenModel.notice_pending.set(reason)])


def revoked_rows(tokens: Sequence[StoredToken], reason: str, at: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Whole revoked copies of tokens as (table, serialized item), for an idempotent batch rewrite
    (``bulk.put_rows``): a cascade replayed after a partial failure writes the same items again."""
    table = str(TokenModel.Meta.table_name)
    return [(table, _item(replace(t, revoked_at=at, revoked_reason=reason)).serialize()) for t in tokens]
