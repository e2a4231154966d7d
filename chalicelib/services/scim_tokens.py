"""SCIM bearer tokens (``osc_``): one org each, managed by its admins.

The secret is returned once and stored only as its SHA-256 (invariant 3).
A SCIM request authenticates as ``scim:<token id>`` scoped to the token's
org, where it acts as an admin and nowhere else, and only while the admin
who made the token still is one (``maker_cascade``; invariant 10).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime

from ..clock import now
from ..domain.errors import NotFound, Unauthenticated
from ..domain.models import Actor, Member
from ..domain.roles import Permission
from ..domain.tokens import StoredToken, TokenKind, usable_scim_token
from ..secrets import hash_secret, new_id, new_secret
from ..storage import tokens as token_rows
from ..storage.base import AlreadyApplied, Tx
from ..storage.tokens import scim_token_owner
from . import audit, members

SCIM_TOKEN_PREFIX = "osc"
_SECRET_SHAPE = re.compile(r"^osc_[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class ScimToken:
    token_id: str
    name: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_reason: str | None = None  # revoked_by_admin, or maker_removed / maker_demoted (the cascade)

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "active"


def _to_token(item: StoredToken) -> ScimToken:
    return ScimToken(
        token_id=item.token_id,
        name=item.name or "",
        created_at=item.created_at,
        created_by=item.created_by,
        revoked_at=item.revoked_at,
        revoked_reason=item.revoked_reason if item.revoked_at else None,
    )


def issue(org_id: str, actor: Actor, name: str) -> tuple[ScimToken, str]:
    """A new token for the org and its one-time secret."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    secret = new_secret(SCIM_TOKEN_PREFIX)
    item = StoredToken(
        token_hash=hash_secret(secret),
        token_id=new_id("sct"),
        kind=TokenKind.SCIM_TOKEN,
        owner=scim_token_owner(org_id),
        org_id=org_id,
        name=name,
        created_at=now(),
        created_by=actor.actor,
        # The maker: the token lives only while this membership may manage SCIM (invariant 10).
        account_id=caller.account_id if caller else None,
        member_joined_at=caller.joined_at if caller else None,
    )
    tx = Tx()
    token_rows.add_to(tx, item)
    audit.record(tx, org_id, actor, "scim_token.created", item.token_id, {"name": name})
    members.caller_still(tx, caller, Permission.MANAGE_SCIM)
    tx.commit()
    return _to_token(item), secret


def list_tokens(org_id: str, actor: Actor) -> list[ScimToken]:
    members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    return [_to_token(i) for i in token_rows.owned_by(scim_token_owner(org_id))]


def revoke(org_id: str, actor: Actor, token_id: str) -> None:
    """Revoke one of the org's tokens; at once, every request with it answers 401."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    item = token_rows.find(scim_token_owner(org_id), token_id)
    if item is None:
        raise NotFound("No such SCIM token.")
    if item.revoked_at is not None:
        return
    tx = Tx()
    token_rows.revoke_in(tx, item.token_hash, "revoked_by_admin", now(), on_fail=AlreadyApplied)
    audit.record(tx, org_id, actor, "scim_token.revoked", token_id)
    members.caller_still(tx, caller, Permission.MANAGE_SCIM)
    with contextlib.suppress(AlreadyApplied):  # revoked concurrently: the wanted state holds
        tx.commit()


def _maker_may(item: StoredToken) -> tuple[bool, Member | None]:
    """Whether the admin who made the token still may manage SCIM, in the same membership; and that member.

    One consistent read of the maker's member item: a token of an admin removed
    or demoted a moment ago is refused before the stream cascade flags it
    (``maker_cascade``). Tokens made by the system (bootstrap) have no maker.
    """
    maker = item.account_id
    if maker is None and item.created_by and item.created_by.startswith("account:"):
        maker = item.created_by.removeprefix("account:")  # made before tokens carried their maker
    if maker is None or item.org_id is None:
        return True, None
    member = members.get_item(item.org_id, maker)
    if member is None or not members.still_holds(member, Permission.MANAGE_SCIM, item.member_joined_at):
        return False, None
    return True, member


def authenticate(secret: str | None, request_id: str) -> Actor:
    """Resolve a SCIM bearer secret to an actor bound to its org, or raise Unauthenticated."""
    return authenticate_with_maker(secret, request_id)[0]


def authenticate_with_maker(secret: str | None, request_id: str) -> tuple[Actor, Member | None]:
    """``authenticate``, and the maker whose power the token stands on (``members.backed_by``)."""
    if not secret or not _SECRET_SHAPE.match(secret):
        raise Unauthenticated("A valid SCIM token is required (Authorization: Bearer osc_...).")
    # Consistent: a token revoked a moment ago must stop provisioning at once.
    item = token_rows.get(hash_secret(secret))
    if item is None or not usable_scim_token(item):
        raise Unauthenticated("A valid SCIM token is required (Authorization: Bearer osc_...).")
    assert item.org_id is not None
    may, maker = _maker_may(item)
    if not may:
        raise Unauthenticated("A valid SCIM token is required (Authorization: Bearer osc_...).")
    return Actor(actor=f"scim:{item.token_id}", request_id=request_id, scope_org=item.org_id), maker
