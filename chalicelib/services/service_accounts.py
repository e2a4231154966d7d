"""Service accounts: an org's machine clients, with OAuth 2.0 client-credentials tokens.

A service account belongs to the org, not to a person: it holds no seat and
no membership. It is an org credential, so it is never stronger than the
admin who created it (invariant 10): it records its maker (``created_by``,
the maker's account id and membership ``joined_at``), works only while that
same membership may manage service accounts, and is disabled by the Members
stream when the maker is removed or demoted (``maker_cascade``, reason
``maker_removed`` / ``maker_demoted``); an admin who stays can create a new
one. Accounts made before makers were recorded take theirs from
``created_by``; one made without a maker (no path makes one today)
depends on no membership. Admins create, change,
disable and delete them, and give each at most two client secrets at once
(rotation: add the new one, move the client, delete the old one). A client
secret (``oss_``) and an access token (``osa_``) are shown once and stored
only as their SHA-256 (invariant 3).

``grant`` is the client-credentials grant (RFC 6749 section 4.4): a client
id and secret buy an access token of ``service_token_seconds`` for some or
all of the account's scopes; it is refused (``unauthorized_client``) when
the maker no longer may manage service accounts, a condition of the grant's
own transaction. ``authenticate`` resolves an access token with one
consistent BatchGetItem of the token item, the account item and the maker's
member item (the token names the account, the org and the maker: ids, not
secrets), so a disabled account, a deleted secret, a narrowed scope or a
maker removed or demoted takes effect on the very next request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..clock import iso, now, parse_iso
from ..config import get_settings
from ..domain.errors import (
    Forbidden,
    NotFound,
    OAuthError,
    ServiceAccountSecretLimit,
    Unauthenticated,
)
from ..domain.models import Actor, Standing
from ..domain.roles import Permission, Scope, scope_permissions
from ..domain.service_accounts import (
    AccountChange,
    GrantedToken,
    StoredSecret,
    StoredServiceAccount,
    maker_of,
    plan_update,
    scopes_of,
    token_stands,
)
from ..secrets import hash_secret, new_id, new_secret, same
from ..storage import service_accounts as account_rows
from ..storage.base import CancelReason, Tx, retry_races
from . import audit, client_auth_limits, members

CLIENT_SECRET_PREFIX = "oss"
TOKEN_PREFIX = "osa"
MAX_SECRETS = 2
CLIENT_ID_SHAPE = re.compile(r"^sa_[0-9a-f]{20}$")
_CLIENT_SECRET_SHAPE = re.compile(r"^oss_[A-Za-z0-9_-]{20,100}$")
# The token names its account ("osa_" + the client id's hex), and for an account with a maker
# the org's and the maker's ids' hex too, then the random part: one BatchGetItem reads token,
# account and the maker's member item together. Tokens without the maker's part are those of
# accounts without a maker (and ones granted before tokens named it).
_TOKEN_SHAPE = re.compile(r"^osa_([0-9a-f]{20})(?:([0-9a-f]{20})([0-9a-f]{20}))?[A-Za-z0-9_-]{43}$")
_ORG_ID = re.compile(r"^org_([0-9a-f]{20})$")
_ACCOUNT_ID = re.compile(r"^acc_([0-9a-f]{20})$")
REFUSED = "A valid access token is required (Authorization: Bearer osa_...)."
POWER = Permission.MANAGE_SERVICE_ACCOUNTS
MAKER_REMOVED = "maker_removed"
MAKER_DEMOTED = "maker_demoted"
MAKER_LOST = (
    "The admin who created this service account no longer has the power to manage service accounts; "
    "an admin can re-create it."
)


@dataclass(frozen=True)
class Secret:
    secret_id: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class ServiceAccount:
    sa_id: str
    org_id: str
    name: str
    scopes: frozenset[Scope]
    disabled: bool
    created_at: datetime
    created_by: str | None
    updated_at: datetime | None
    secrets: list[Secret]
    disabled_reason: str | None = None  # maker_removed | maker_demoted: disabled by the cascade

    @property
    def client_id(self) -> str:
        return self.sa_id

    @property
    def status(self) -> str:
        return "disabled" if self.disabled else "active"

    @property
    def last_used_at(self) -> datetime | None:
        used = [s.last_used_at for s in self.secrets if s.last_used_at is not None]
        return max(used) if used else None


@dataclass(frozen=True)
class Granted:
    access_token: str
    expires_in: int
    scopes: frozenset[Scope]


def to_account(stored: StoredServiceAccount) -> ServiceAccount:
    secrets = [Secret(s.secret_id, s.created_at, s.last_used_at) for s in stored.secrets.values()]
    return ServiceAccount(
        sa_id=stored.sa_id,
        org_id=stored.org_id,
        name=stored.name,
        scopes=scopes_of(stored.scopes),
        disabled=stored.disabled,
        created_at=stored.created_at,
        created_by=stored.created_by,
        updated_at=stored.updated_at,
        secrets=sorted(secrets, key=lambda s: s.created_at),
        disabled_reason=stored.disabled_reason if stored.disabled else None,
    )


def _maker_holds(account: StoredServiceAccount, member: Standing | None) -> bool:
    """Whether the maker's member item is the same membership and still may manage service accounts."""
    return members.still_holds(member, POWER, account.member_joined_at)


def sorted_scopes(scopes: frozenset[Scope]) -> list[str]:
    return sorted(s.value for s in scopes)


# ---------------------------------------------------------------- management (admins)


def _authorize(org_id: str, actor: Actor) -> Any:
    return members.authorize(org_id, actor, Permission.MANAGE_SERVICE_ACCOUNTS)


def _read(org_id: str, sa_id: str) -> StoredServiceAccount:
    """The org's account, consistent; another org's (or none) is 404."""
    stored = account_rows.get(sa_id) if CLIENT_ID_SHAPE.match(sa_id) else None
    if stored is None or stored.org_id != org_id:
        raise NotFound("No such service account.")
    return stored


def _new_secret(at: datetime) -> tuple[StoredSecret, str]:
    """A new client secret: its stored form (the hash) and the secret, shown once."""
    secret = new_secret(CLIENT_SECRET_PREFIX)
    # At the precision it is stored in (milliseconds), so the answer that shows it matches every later read.
    stored_at = parse_iso(iso(at))
    return StoredSecret(secret_id=new_id("sas"), hash=hash_secret(secret), created_at=stored_at), secret


def create(org_id: str, actor: Actor, name: str, scopes: frozenset[Scope]) -> tuple[ServiceAccount, str, str]:
    """A new service account with its first client secret: (account, secret id, secret shown once)."""
    caller = _authorize(org_id, actor)
    at = now()
    first, secret = _new_secret(at)
    stored = StoredServiceAccount(
        sa_id=new_id("sa"),
        org_id=org_id,
        name=name,
        scopes=frozenset(s.value for s in scopes),
        disabled=False,
        created_at=at,
        secrets={first.secret_id: first},
        version=1,
        generation=0,
        created_by=actor.actor,
        updated_at=at,
        # The maker: the account lives only while this membership may manage service accounts.
        account_id=caller.account_id if caller else None,
        member_joined_at=caller.joined_at if caller else None,
    )
    tx = Tx()
    account_rows.add_in(tx, stored)
    details = {"name": name, "scopes": sorted_scopes(scopes), "secret_id": first.secret_id}
    audit.record(tx, org_id, actor, "service_account.created", stored.sa_id, details)
    members.caller_still(tx, caller, Permission.MANAGE_SERVICE_ACCOUNTS)
    tx.commit()
    return to_account(stored), first.secret_id, secret


def list_accounts(org_id: str, actor: Actor) -> list[ServiceAccount]:
    _authorize(org_id, actor)
    return sorted((to_account(a) for a in account_rows.of_org(org_id)), key=lambda a: a.created_at)


def get(org_id: str, actor: Actor, sa_id: str) -> ServiceAccount:
    _authorize(org_id, actor)
    return to_account(_read(org_id, sa_id))


def _change(
    org_id: str,
    actor: Actor,
    sa_id: str,
    plan: Callable[[StoredServiceAccount], tuple[AccountChange, str, dict[str, Any]] | None],
) -> StoredServiceAccount:
    """Read, plan and write one change under the version read (a lost race is re-read and re-planned)."""
    caller = _authorize(org_id, actor)

    def attempt() -> StoredServiceAccount:
        stored = _read(org_id, sa_id)
        planned = plan(stored)
        if planned is None:  # nothing to change
            return stored
        change, action, details = planned
        tx = Tx()
        account_rows.change_in(tx, stored, change, now())
        audit.record(tx, org_id, actor, action, sa_id, details)
        members.caller_still(tx, caller, Permission.MANAGE_SERVICE_ACCOUNTS)
        tx.commit()
        return _read(org_id, sa_id)

    return retry_races(attempt)


def update(
    org_id: str,
    actor: Actor,
    sa_id: str,
    *,
    name: str | None = None,
    scopes: frozenset[Scope] | None = None,
    disabled: bool | None = None,
) -> ServiceAccount:
    """Rename, rescope, disable or enable; narrowing scopes or disabling acts on live tokens at once."""
    stored = _change(org_id, actor, sa_id, lambda read: plan_update(read, name, scopes, disabled))
    return to_account(stored)


def add_secret(org_id: str, actor: Actor, sa_id: str) -> tuple[ServiceAccount, str, str]:
    """A second client secret for rotation (409 ``secret_limit_reached`` when two are live)."""
    made: dict[str, str] = {}

    def plan(stored: StoredServiceAccount) -> tuple[AccountChange, str, dict[str, Any]]:
        if len(stored.secrets) >= MAX_SECRETS:
            raise ServiceAccountSecretLimit()
        added, secret = _new_secret(now())
        made.update(secret_id=added.secret_id, secret=secret)
        return AccountChange(add_secret=added), "service_account.secret_added", {"secret_id": added.secret_id}

    stored = _change(org_id, actor, sa_id, plan)
    return to_account(stored), made["secret_id"], made["secret"]


def delete_secret(org_id: str, actor: Actor, sa_id: str, secret_id: str) -> None:
    """Delete a client secret: the tokens granted with it stop working at once."""

    def plan(stored: StoredServiceAccount) -> tuple[AccountChange, str, dict[str, Any]]:
        if secret_id not in stored.secrets:
            raise NotFound("No such secret.")
        return AccountChange(remove_secret=secret_id), "service_account.secret_deleted", {"secret_id": secret_id}

    _change(org_id, actor, sa_id, plan)


def _gone(_reason: CancelReason) -> Exception:
    return NotFound("No such service account.")


def delete(org_id: str, actor: Actor, sa_id: str) -> None:
    """Delete a service account: its secrets go with it and its tokens stop at once."""
    caller = _authorize(org_id, actor)

    def attempt() -> None:
        stored = _read(org_id, sa_id)
        tx = Tx()
        # Deleted concurrently: 404 (the guard on the caller, if it failed too, answers first).
        account_rows.delete_in(tx, stored, on_fail=_gone)
        audit.record(tx, org_id, actor, "service_account.deleted", sa_id, {"name": stored.name})
        members.caller_still(tx, caller, Permission.MANAGE_SERVICE_ACCOUNTS)
        tx.commit()

    retry_races(attempt)


# ---------------------------------------------------------------- the token endpoint


def parse_scope(text: str | None, basic: bool) -> frozenset[Scope] | None:
    """RFC 6749 section 3.3: space-separated scope tokens; None when the client asked for none."""
    if text is None:
        return None
    names = text.split(" ")
    if not text.strip() or any(not n for n in names):
        raise OAuthError("invalid_scope", "scope must be scope names separated by single spaces.", basic=basic)
    unknown = sorted(n for n in names if n not in Scope._value2member_map_)
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {', '.join(unknown)}.", basic=basic)
    return frozenset(Scope(n) for n in names)


def grant(client_id: str, client_secret: str, requested: frozenset[Scope] | None, *, basic: bool) -> Granted:
    """The client-credentials grant: a token for the requested scopes (default: all of the account's)."""
    refused = OAuthError("invalid_client", "Client authentication failed.", basic=basic)
    if not CLIENT_ID_SHAPE.match(client_id):
        raise refused
    wait = client_auth_limits.wait_for(client_id)
    if wait is not None:
        message = f"Too many failed authentications of this client; try again {client_auth_limits.in_words(wait)}."
        raise OAuthError("too_many_requests", message, basic=basic, retry_after=wait)
    if not _CLIENT_SECRET_SHAPE.match(client_secret):
        client_auth_limits.count_failure(client_id)
        raise refused
    stored = account_rows.get(client_id)
    offered = hash_secret(client_secret)
    matched = [sid for sid, s in (stored.secrets if stored else {}).items() if same(s.hash, offered)]
    if stored is None or not matched:
        client_auth_limits.count_failure(client_id)
        raise refused
    secret_id = matched[0]
    if stored.disabled:
        lost = stored.disabled_reason in (MAKER_REMOVED, MAKER_DEMOTED)
        why = MAKER_LOST if lost else "This service account is disabled."
        raise OAuthError("unauthorized_client", why, basic=basic)
    held = scopes_of(stored.scopes)
    if not held:
        raise OAuthError("invalid_scope", "This service account holds no scope.", basic=basic)
    scopes = held if requested is None else requested
    if not scopes <= held:
        beyond = ", ".join(sorted_scopes(scopes - held))
        raise OAuthError("invalid_scope", f"Scope not granted to this client: {beyond}.", basic=basic)
    at = now()
    lifetime = get_settings().service_token_seconds
    maker = maker_of(stored)
    token = f"{TOKEN_PREFIX}_{client_id.removeprefix('sa_')}{_names_maker(stored.org_id, maker)}"
    token += new_secret(TOKEN_PREFIX).removeprefix("osa_")
    granted = GrantedToken(
        sa_id=client_id,
        token_hash=hash_secret(token),
        secret_id=secret_id,
        scopes=frozenset(s.value for s in scopes),
        generation=stored.generation,
        created_at=at,
        expires_at=at + timedelta(seconds=lifetime),
    )

    def commit() -> None:
        tx = Tx()
        # The token, the secret's last use, and the grant's own conditions: a secret deleted or an
        # account disabled since the read above mints nothing.
        account_rows.grant_in(tx, stored, granted, on_fail=lambda _reason: refused)
        if maker is not None:  # the maker still may manage service accounts, in the same membership
            members.holds_in(
                tx,
                stored.org_id,
                maker,
                POWER,
                stored.member_joined_at,
                on_fail=lambda _reason: OAuthError("unauthorized_client", MAKER_LOST, basic=basic),
            )
        tx.commit()

    # Grants of one client at once all write its item: a TransactionConflict is a lost race, tried again.
    retry_races(commit)
    return Granted(access_token=token, expires_in=lifetime, scopes=scopes)


# ---------------------------------------------------------------- authenticating a request


def is_access_token(secret: str | None) -> bool:
    """Whether a bearer secret is shaped as a service account's access token (checked by ``authenticate``)."""
    return bool(secret) and str(secret).startswith(TOKEN_PREFIX + "_")


def _names_maker(org_id: str | None, maker: str | None) -> str:
    """The token's part naming the org and the maker (their ids' hex), or "" when they cannot be named."""
    org = _ORG_ID.match(org_id or "")
    account = _ACCOUNT_ID.match(maker or "")
    return f"{org.group(1)}{account.group(1)}" if org and account else ""


def _maker_may(account: StoredServiceAccount, read: account_rows.RequestRead, named: tuple[str, str] | None) -> bool:
    """Whether the account's maker still may manage service accounts (no maker: nothing to check).

    The token names the maker's member item, read in the same BatchGetItem; it
    must name the account's own org and maker. A token that names none (granted
    before tokens named their maker) costs one more consistent read.
    """
    maker = maker_of(account)
    if maker is None:
        return named is None
    if named is None:
        return _maker_holds(account, members.standing_of(account.org_id, maker))
    if named != (account.org_id, maker):
        return False
    return _maker_holds(account, read.maker)


def authenticate(secret: str | None, request_id: str) -> Actor:
    """Resolve an access token to an actor bound to its org and scopes, or raise Unauthenticated."""
    match = _TOKEN_SHAPE.match(secret or "")
    if not secret or not match:
        raise Unauthenticated(REFUSED)
    sa_id = f"sa_{match.group(1)}"
    named = (f"org_{match.group(2)}", f"acc_{match.group(3)}") if match.group(2) else None
    read = account_rows.read_for_request(sa_id, hash_secret(secret), named)
    account, token = read.account, read.token
    if (
        account is None
        or token is None
        or not token_stands(account, token, now())
        or not _maker_may(account, read, named)
    ):
        raise Unauthenticated(REFUSED)
    # Scopes narrowed since the grant are narrowed on the token too.
    scopes = scopes_of(token.scopes) & scopes_of(account.scopes)
    return Actor(
        actor=f"service_account:{sa_id}",
        request_id=request_id,
        scope_org=account.org_id,
        scopes=scopes,
        permissions=scope_permissions(scopes),
    )


def require_scope(actor: Actor, scope: Scope | None) -> None:
    """The route-level gate: a service account calls only the routes its scopes name."""
    if actor.scopes is None:
        return
    if scope is None:
        raise Forbidden("A service account may not call this route.")
    if scope not in actor.scopes:
        raise Forbidden(f"This call needs the scope {scope.value}.")
