"""Organization access tokens (``oat_``): issue, list, renew, revoke, verify.

The secret is returned once and stored only as its SHA-256 (invariant 3).
A token stamps the member's ``seat_generation`` and ``joined_at`` at issue;
verification compares both with the live member item, so a revoked seat or
a removed member stops every earlier token the moment the revoking write
returns, before the stream cascade marks the tokens revoked (invariant 4),
and a seat or membership granted again later never revives them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from ..clock import iso, now
from ..config import get_settings
from ..domain.errors import InvalidRequest, NotFound, SeatRequired, TokenRevoked
from ..domain.models import Actor, Member, Page
from ..domain.roles import Permission
from ..domain.tokens import (
    SeatStamp,
    StoredToken,
    TokenKind,
    backed,
    needs_touch,
    stale_reason,
    token_status,
    usable_access_token,
)
from ..secrets import hash_secret, new_id, new_secret
from ..storage import members as member_rows
from ..storage import tokens as token_rows
from ..storage.base import AlreadyApplied, Tx
from ..storage.tokens import access_token_owner
from . import audit, members, once

TOKEN_PREFIX = "oat"
KIND = TokenKind.ACCESS_TOKEN
_SECRET_SHAPE = re.compile(r"^oat_[A-Za-z0-9_-]{20,100}$")
# Tokens issued now carry their member's address in clear (not secret: ids), so verification
# reads token and member in one BatchGetItem: "oat_" + the org id's and the account id's hex
# + the random part. Tokens of the earlier shape ("oat_" + random) verify in two reads.
_ID_HEX = re.compile(r"^[0-9a-f]{20}$")
_ADDRESSED = re.compile(r"^oat_([0-9a-f]{20})([0-9a-f]{20})[A-Za-z0-9_-]{43}$")
LAST_USED_GRANULARITY = timedelta(hours=1)
INACTIVE: dict[str, Any] = {"active": False}


@dataclass(frozen=True)
class AccessToken:
    token_id: str
    org_id: str
    account_id: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    created_by: str | None

    @property
    def issuer(self) -> tuple[Literal["self", "admin"], str | None] | None:
        """Who minted the token: ``("self", account)``, ``("admin", account)`` for an admin of the
        org, ``("admin", None)`` for an org credential acting as admin; None when not recorded."""
        if not self.created_by:
            return None
        kind, _, ident = self.created_by.partition(":")
        if kind == "account" and ident:
            return ("self" if ident == self.account_id else "admin", ident)
        return ("admin", None)

    def status(self, at: datetime | None = None) -> str:
        return token_status(self.revoked_at, self.expires_at, at or now())


def to_token(item: StoredToken) -> AccessToken:
    assert item.org_id is not None and item.account_id is not None and item.expires_at is not None
    return AccessToken(
        token_id=item.token_id,
        org_id=item.org_id,
        account_id=item.account_id,
        name=item.name or "",
        created_at=item.created_at,
        expires_at=item.expires_at,
        last_used_at=item.last_used_at,
        revoked_at=item.revoked_at,
        revoked_reason=item.revoked_reason,
        created_by=item.created_by,
    )


def expiry(requested: datetime | None, at: datetime | None = None) -> datetime:
    """The expiry of a new or renewed token: default lifetime, or the requested time within (now, now + max]."""
    settings = get_settings()
    start = at or now()
    if requested is None:
        return start + timedelta(days=min(settings.token_default_days, settings.token_max_days))
    if requested.tzinfo is None:
        raise InvalidRequest(
            "expires_at needs a time zone (use Z for UTC).",
            details=[{"field": "expires_at", "problem": "timezone_missing"}],
        )
    if requested <= start:
        raise InvalidRequest(
            "expires_at must be in the future.", details=[{"field": "expires_at", "problem": "in_the_past"}]
        )
    if requested > start + timedelta(days=settings.token_max_days):
        raise InvalidRequest(
            f"expires_at may be at most {settings.token_max_days} days from now.",
            details=[{"field": "expires_at", "problem": "beyond_max_lifetime"}],
        )
    return requested


def addressed_secret(org_id: str, account_id: str) -> str:
    """A new token secret that names its member item (ids of another shape: the plain form)."""
    org_hex, account_hex = org_id.removeprefix("org_"), account_id.removeprefix("acc_")
    secret = new_secret(TOKEN_PREFIX)
    if (
        org_id.startswith("org_")
        and account_id.startswith("acc_")
        and _ID_HEX.match(org_hex)
        and _ID_HEX.match(account_hex)
    ):
        return f"{TOKEN_PREFIX}_{org_hex}{account_hex}{secret.removeprefix(TOKEN_PREFIX + '_')}"
    return secret


def member_address(secret: str) -> tuple[str, str] | None:
    """(org id, account id) a secret claims to belong to; None for the plain form. Checked against the token."""
    match = _ADDRESSED.match(secret)
    return (f"org_{match.group(1)}", f"acc_{match.group(2)}") if match else None


def new_token_item(
    member: Member, name: str, expires_at: datetime, created_by: str | None, *, awaiting_handover: bool = False
) -> tuple[StoredToken, str]:
    """A token for a seated member, stamped with its seat and membership (to put in a transaction),
    and its one-time secret.

    ``awaiting_handover``: the token stays inactive until ``hand_over`` (bulk calls, see onboarding).
    """
    secret = addressed_secret(member.org_id, member.account_id)
    item = StoredToken(
        token_hash=hash_secret(secret),
        token_id=new_id("tok"),
        kind=KIND,
        owner=access_token_owner(member.org_id, member.account_id),
        account_id=member.account_id,
        org_id=member.org_id,
        name=name,
        created_at=now(),
        expires_at=expires_at,
        seat_generation=member.seat_generation,
        member_joined_at=member.joined_at,
        created_by=created_by,
        awaiting_handover=awaiting_handover,
    )
    return item, secret


def hand_over(token_hashes: list[str]) -> None:
    """Make tokens issued ``awaiting_handover`` live: their secrets are about to be answered.

    A token revoked meanwhile (the seat went) stays revoked.
    """
    token_rows.hand_over(token_hashes)


STRANDED = "onboarding_interrupted"


def replace_stranded(
    org_id: str, actor: Actor, account_id: str, name: str, expires_at: datetime, admin: Member | None
) -> tuple[AccessToken, str] | None:
    """Revoke the member's tokens a bulk call never handed over (it died before answering) and issue
    one in their place, awaiting handover in its turn; None when there were none (or the seat is gone)."""
    owner = access_token_owner(org_id, account_id)
    stranded = [
        t for t in token_rows.owned_by(owner) if t.awaiting_handover and t.revoked_at is None and t.kind == KIND
    ]
    for token in stranded:
        _revoke(org_id, account_id, token.token_id, actor, STRANDED, admin)
    if not stranded:
        return None
    try:
        return _issue(org_id, account_id, actor, name, expires_at, admin=admin, awaiting_handover=True)
    except SeatRequired:
        return None


def add_token_to(tx: Tx, item: StoredToken, actor: Actor) -> None:
    """Token put + its audit record (never the secret)."""
    token_rows.add_to(tx, item)
    audit.record(
        tx,
        item.org_id or "",
        actor,
        "token.issued",
        item.account_id or "",
        {"token_id": item.token_id, "name": item.name, "expires_at": iso(item.expires_at) if item.expires_at else None},
    )


def _issue(
    org_id: str,
    account_id: str,
    actor: Actor,
    name: str,
    expires_at: datetime | None,
    once_key: str | None = None,
    admin: Member | None = None,
    awaiting_handover: bool = False,
) -> tuple[AccessToken, str]:
    """``admin``: the admin issuing for someone else (their power is checked in the transaction)."""
    member = members.find(org_id, account_id)
    if member is None:
        raise NotFound("No such member.")
    if not member.has_seat:
        raise SeatRequired()
    item, secret = new_token_item(member, name, expiry(expires_at), actor.actor, awaiting_handover=awaiting_handover)
    tx = Tx()
    if once_key:
        once.add_marker_to(tx, once_key)  # first: a form sent twice is AlreadyDone, whatever else failed
    # The seat must still be the one we stamped when the token is written.
    stamp = SeatStamp(has_seat=True, seat_generation=member.seat_generation, joined_at=member.joined_at)
    member_rows.check_seat_in(tx, org_id, account_id, stamp, on_fail=SeatRequired)
    add_token_to(tx, item, actor)
    members.caller_still(tx, admin, Permission.MANAGE_TOKENS)
    tx.commit()
    return to_token(item), secret


def issue_own(
    org_id: str, actor: Actor, name: str, expires_at: datetime | None = None, once_key: str | None = None
) -> tuple[AccessToken, str]:
    """A member with a seat issues a token for themselves (403 seat_required otherwise).

    ``once_key`` (a form's nonce): a second call with it issues nothing (``once.AlreadyDone``).
    """
    caller = members.authorize(org_id, actor, Permission.OWN_TOKENS)
    if caller is None:  # org-bound credentials (SCIM) own no tokens
        raise NotFound("No such organization.")
    return _issue(org_id, caller.account_id, actor, name, expires_at, once_key)


def issue_for(
    org_id: str,
    actor: Actor,
    account_id: str,
    name: str,
    expires_at: datetime | None = None,
    once_key: str | None = None,
) -> tuple[AccessToken, str]:
    """An admin issues a token for a seated member (``once_key``: as for ``issue_own``)."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_TOKENS)
    return _issue(org_id, account_id, actor, name, expires_at, once_key, admin=caller)


def _as_listed(item: StoredToken, member: Member) -> AccessToken:
    """A token as its owner's listing shows it: one that no longer matches the member's seat or
    membership is shown revoked even before the stream cascade has flagged it (verification
    already refuses it)."""
    token = to_token(item)
    if token.revoked_at is not None:
        return token
    reason = stale_reason(
        item.seat_generation, item.member_joined_at, member.has_seat, member.seat_generation, member.joined_at
    )
    if reason == "member_removed":
        return replace(token, revoked_at=member.joined_at, revoked_reason=reason)
    if reason == "seat_revoked":
        return replace(token, revoked_at=member.updated_at, revoked_reason=reason)
    return token


def _list(member: Member, limit: int, cursor: str | None) -> Page:
    """Tokens of one member, by token id; the cursor is the last token id seen."""
    if cursor is not None and not re.fullmatch(r"tok_[0-9a-f]{1,64}", cursor):
        raise InvalidRequest("The cursor is not valid.", details=[{"field": "cursor", "problem": "malformed"}])
    owner = access_token_owner(member.org_id, member.account_id)
    results = token_rows.owned_by(owner, after=cursor, limit=limit + 1)
    items = [_as_listed(i, member) for i in results[:limit]]
    return Page(items=items, next_cursor=items[-1].token_id if len(results) > limit else None)


def own_tokens(org_id: str, actor: Actor, limit: int = 50, cursor: str | None = None) -> tuple[Member, Page]:
    """The caller's membership (seat included) and a page of their tokens: the Token Access page's data."""
    caller = members.authorize(org_id, actor, Permission.OWN_TOKENS)
    if caller is None:
        raise NotFound("No such organization.")
    return caller, _list(caller, limit, cursor)


def list_own(org_id: str, actor: Actor, limit: int = 50, cursor: str | None = None) -> Page:
    return own_tokens(org_id, actor, limit, cursor)[1]


def list_for(org_id: str, actor: Actor, account_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    members.authorize(org_id, actor, Permission.MANAGE_TOKENS)
    member = members.find(org_id, account_id)
    if member is None:
        raise NotFound("No such member.")
    return _list(member, limit, cursor)


def _find(org_id: str, account_id: str, token_id: str) -> StoredToken:
    token = token_rows.find(access_token_owner(org_id, account_id), token_id)
    if token is None:
        raise NotFound("No such token.")
    return token


def _revoke(
    org_id: str, account_id: str, token_id: str, actor: Actor, reason: str, admin: Member | None = None
) -> None:
    item = _find(org_id, account_id, token_id)
    if item.revoked_at is not None:
        return
    tx = Tx()
    token_rows.revoke_in(tx, item.token_hash, reason, now(), on_fail=AlreadyApplied)
    audit.record(tx, org_id, actor, "token.revoked", account_id, {"token_id": token_id, "reason": reason})
    members.caller_still(tx, admin, Permission.MANAGE_TOKENS)
    # Revoked concurrently (by its owner, an admin or the cascade): the outcome is the same.
    with contextlib.suppress(AlreadyApplied):
        tx.commit()


def revoke_own(org_id: str, actor: Actor, token_id: str) -> None:
    caller = members.authorize(org_id, actor, Permission.OWN_TOKENS)
    if caller is None:
        raise NotFound("No such organization.")
    _revoke(org_id, caller.account_id, token_id, actor, "revoked_by_owner")


def revoke_for(org_id: str, actor: Actor, account_id: str, token_id: str) -> None:
    caller = members.authorize(org_id, actor, Permission.MANAGE_TOKENS)
    _revoke(org_id, account_id, token_id, actor, "revoked_by_admin", admin=caller)


def renew(org_id: str, actor: Actor, account_id: str, token_id: str, expires_at: datetime) -> AccessToken:
    """Set a new expiry on an unrevoked token (409 token_revoked otherwise)."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_TOKENS)
    new_expiry = expiry(expires_at)
    item = _find(org_id, account_id, token_id)
    member = members.find(org_id, account_id)
    # A token whose seat or membership ended is dead even before the cascade flags it.
    if member is None or _as_listed(item, member).revoked_at is not None:
        raise TokenRevoked()
    old_expiry = item.expires_at
    tx = Tx()
    token_rows.renew_in(tx, item.token_hash, new_expiry, on_fail=TokenRevoked)
    audit.record(
        tx,
        org_id,
        actor,
        "token.renewed",
        account_id,
        {"token_id": token_id, "from": iso(old_expiry) if old_expiry else None, "to": iso(new_expiry)},
    )
    members.caller_still(tx, caller, Permission.MANAGE_TOKENS)
    tx.commit()
    return to_token(replace(item, expires_at=new_expiry))


def verify(secret: str, org_id: str | None = None) -> dict[str, Any]:
    """RFC 7662-style introspection: ``{"active": false}`` or the token's org, account, id and expiry.

    One request for a valid token of the current shape (a consistent
    BatchGetItem of token and member; the token must name that member, so a
    secret with another member's ids is inactive); two consistent reads for
    one of the earlier shape, one for an unknown one, none for a malformed
    one. Last-used time is written at most once per token per hour.
    """
    if not isinstance(secret, str) or not _SECRET_SHAPE.match(secret):
        return dict(INACTIVE)
    address = member_address(secret)
    member: SeatStamp | None = None
    if address is None:
        token = token_rows.get(hash_secret(secret))
    else:
        token, member = token_rows.with_seat_stamp(hash_secret(secret), *address)
        if token is not None and (token.org_id, token.account_id) != address:
            return dict(INACTIVE)
    at = now()
    if token is None or not usable_access_token(token, at, org_id):
        return dict(INACTIVE)
    assert token.org_id is not None and token.account_id is not None and token.expires_at is not None
    if address is None:
        member = member_rows.seat_stamp(token.org_id, token.account_id)
    if not backed(token, member):
        return dict(INACTIVE)
    if needs_touch(token.last_used_at, at, LAST_USED_GRANULARITY):
        token_rows.record_use(token, at, LAST_USED_GRANULARITY)
    return {
        "active": True,
        "org_id": token.org_id,
        "account_id": token.account_id,
        "token_id": token.token_id,
        "expires_at": iso(token.expires_at),
    }
