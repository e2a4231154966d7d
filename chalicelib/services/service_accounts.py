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

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..clock import iso, now, parse_iso
from ..config import get_settings
from ..domain.errors import (
    Forbidden,
    NotFound,
    OAuthError,
    ServiceAccountSecretLimit,
    ServiceUnavailable,
    Unauthenticated,
)
from ..domain.models import Actor
from ..domain.roles import Permission, Scope, scope_permissions
from ..secrets import hash_secret, new_id, new_secret, same
from ..storage.base import CancelReason, Tx, answered, client, retry_races
from ..storage.members import MemberModel
from ..storage.service_accounts import ACCOUNT, ServiceAccountModel, token_item
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


def _secrets_of(item: ServiceAccountModel) -> dict[str, dict[str, Any]]:
    raw = item.secrets.as_dict() if item.secrets is not None else {}
    return {str(k): dict(v) for k, v in raw.items()}


def _scopes_of(item: ServiceAccountModel) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in (item.scopes or set()) if s in Scope._value2member_map_)


def to_account(item: ServiceAccountModel) -> ServiceAccount:
    assert item.org_id is not None and item.created_at is not None
    secrets = [
        Secret(
            secret_id=sid,
            created_at=parse_iso(str(s["created_at"])),
            last_used_at=parse_iso(str(s["last_used_at"])) if s.get("last_used_at") else None,
        )
        for sid, s in _secrets_of(item).items()
    ]
    return ServiceAccount(
        sa_id=item.sa_id,
        org_id=item.org_id,
        name=item.name or "",
        scopes=_scopes_of(item),
        disabled=bool(item.disabled),
        created_at=item.created_at,
        created_by=item.created_by,
        updated_at=item.updated_at,
        secrets=sorted(secrets, key=lambda s: s.created_at),
        disabled_reason=item.disabled_reason if item.disabled else None,
    )


def maker_of(item: ServiceAccountModel) -> str | None:
    """The account id of the admin who made the account; None for one made without a maker."""
    if item.account_id is not None:
        return item.account_id
    if item.created_by and item.created_by.startswith("account:"):
        return item.created_by.removeprefix("account:")  # made before accounts carried their maker
    return None


def _maker_holds(item: ServiceAccountModel, member: MemberModel | None) -> bool:
    """Whether the maker's member item is the same membership and still may manage service accounts."""
    return members.still_holds(member, POWER, item.member_joined_at)


def sorted_scopes(scopes: frozenset[Scope]) -> list[str]:
    return sorted(s.value for s in scopes)


# ---------------------------------------------------------------- management (admins)


def _authorize(org_id: str, actor: Actor) -> Any:
    return members.authorize(org_id, actor, Permission.MANAGE_SERVICE_ACCOUNTS)


def _read(org_id: str, sa_id: str) -> ServiceAccountModel:
    """The org's account item, consistent; another org's (or none) is 404."""
    if not CLIENT_ID_SHAPE.match(sa_id):
        raise NotFound("No such service account.")
    try:
        item = ServiceAccountModel.get(sa_id, ACCOUNT, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("No such service account.") from exc
    if item.org_id != org_id:
        raise NotFound("No such service account.")
    return item


def _new_secret_entry(at: datetime) -> tuple[str, str, dict[str, Any]]:
    secret = new_secret(CLIENT_SECRET_PREFIX)
    return new_id("sas"), secret, {"hash": hash_secret(secret), "created_at": iso(at)}


def create(org_id: str, actor: Actor, name: str, scopes: frozenset[Scope]) -> tuple[ServiceAccount, str, str]:
    """A new service account with its first client secret: (account, secret id, secret shown once)."""
    caller = _authorize(org_id, actor)
    at = now()
    secret_id, secret, entry = _new_secret_entry(at)
    item = ServiceAccountModel(
        new_id("sa"),
        ACCOUNT,
        org_id=org_id,
        name=name,
        scopes={s.value for s in scopes},
        disabled=False,
        secrets={secret_id: entry},
        version=1,
        generation=0,
        created_at=at,
        created_by=actor.actor,
        updated_at=at,
        # The maker: the account lives only while this membership may manage service accounts.
        account_id=caller.account_id if caller else None,
        member_joined_at=caller.joined_at if caller else None,
    )
    tx = Tx()
    tx.put(item, condition=ServiceAccountModel.sa_id.does_not_exist())
    details = {"name": name, "scopes": sorted_scopes(scopes), "secret_id": secret_id}
    audit.record(tx, org_id, actor, "service_account.created", item.sa_id, details)
    members.caller_still(tx, caller, Permission.MANAGE_SERVICE_ACCOUNTS)
    tx.commit()
    return to_account(item), secret_id, secret


def list_accounts(org_id: str, actor: Actor) -> list[ServiceAccount]:
    _authorize(org_id, actor)
    items = ServiceAccountModel.by_org.query(org_id)
    return sorted((to_account(i) for i in items), key=lambda a: a.created_at)


def get(org_id: str, actor: Actor, sa_id: str) -> ServiceAccount:
    _authorize(org_id, actor)
    return to_account(_read(org_id, sa_id))


def _change(
    org_id: str,
    actor: Actor,
    sa_id: str,
    plan: Callable[[ServiceAccountModel], tuple[list[Any], str, dict[str, Any]] | None],
) -> ServiceAccountModel:
    """Read, plan and write one change under the version read (a lost race is re-read and re-planned)."""
    caller = _authorize(org_id, actor)

    def attempt() -> ServiceAccountModel:
        item = _read(org_id, sa_id)
        planned = plan(item)
        if planned is None:  # nothing to change
            return item
        actions, action, details = planned
        version = int(item.version or 0)
        tx = Tx()
        tx.update(
            item,
            [
                *actions,
                ServiceAccountModel.version.set(version + 1),
                ServiceAccountModel.updated_at.set(now()),
            ],
            condition=(ServiceAccountModel.org_id == org_id) & (ServiceAccountModel.version == version),
        )
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

    def plan(item: ServiceAccountModel) -> tuple[list[Any], str, dict[str, Any]] | None:
        actions: list[Any] = []
        details: dict[str, Any] = {}
        if name is not None and name != (item.name or ""):
            actions.append(ServiceAccountModel.name.set(name))
            details["name"] = name
        if scopes is not None and scopes != _scopes_of(item):
            actions.append(ServiceAccountModel.scopes.set({s.value for s in scopes}))
            details["scopes"] = sorted_scopes(scopes)
        if disabled is not None and disabled != bool(item.disabled):
            actions.append(ServiceAccountModel.disabled.set(disabled))
            if disabled:  # every token granted so far stays dead, also after enabling again
                actions.append(ServiceAccountModel.generation.set(int(item.generation or 0) + 1))
            elif item.disabled_reason is not None:
                # Enabled again; it still works only while its maker may manage service accounts.
                actions.append(ServiceAccountModel.disabled_reason.remove())
            details["disabled"] = disabled
        if not actions:
            return None
        action = "service_account.updated"
        if set(details) == {"disabled"}:
            action = "service_account.disabled" if disabled else "service_account.enabled"
        return actions, action, details

    return to_account(_change(org_id, actor, sa_id, plan))


def add_secret(org_id: str, actor: Actor, sa_id: str) -> tuple[ServiceAccount, str, str]:
    """A second client secret for rotation (409 ``secret_limit_reached`` when two are live)."""
    made: dict[str, str] = {}

    def plan(item: ServiceAccountModel) -> tuple[list[Any], str, dict[str, Any]]:
        if len(_secrets_of(item)) >= MAX_SECRETS:
            raise ServiceAccountSecretLimit()
        secret_id, secret, entry = _new_secret_entry(now())
        made.update(secret_id=secret_id, secret=secret)
        return (
            [ServiceAccountModel.secrets[secret_id].set(entry)],
            "service_account.secret_added",
            {"secret_id": secret_id},
        )

    item = _change(org_id, actor, sa_id, plan)
    return to_account(item), made["secret_id"], made["secret"]


def delete_secret(org_id: str, actor: Actor, sa_id: str, secret_id: str) -> None:
    """Delete a client secret: the tokens granted with it stop working at once."""

    def plan(item: ServiceAccountModel) -> tuple[list[Any], str, dict[str, Any]]:
        if secret_id not in _secrets_of(item):
            raise NotFound("No such secret.")
        return (
            [ServiceAccountModel.secrets[secret_id].remove()],
            "service_account.secret_deleted",
            {"secret_id": secret_id},
        )

    _change(org_id, actor, sa_id, plan)


def _gone(_reason: CancelReason) -> Exception:
    return NotFound("No such service account.")


def delete(org_id: str, actor: Actor, sa_id: str) -> None:
    """Delete a service account: its secrets go with it and its tokens stop at once."""
    caller = _authorize(org_id, actor)

    def attempt() -> None:
        item = _read(org_id, sa_id)
        tx = Tx()
        # Deleted concurrently: 404 (the guard on the caller, if it failed too, answers first).
        tx.delete(item, condition=(ServiceAccountModel.org_id == org_id), on_fail=_gone)
        audit.record(tx, org_id, actor, "service_account.deleted", sa_id, {"name": item.name or ""})
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
    try:
        item = ServiceAccountModel.get(client_id, ACCOUNT, consistent_read=True)
    except DoesNotExist as exc:
        client_auth_limits.count_failure(client_id)
        raise refused from exc
    offered = hash_secret(client_secret)
    matched = [sid for sid, s in _secrets_of(item).items() if same(str(s.get("hash", "")), offered)]
    if not matched or not item.org_id:
        client_auth_limits.count_failure(client_id)
        raise refused
    secret_id = matched[0]
    if item.disabled:
        lost = item.disabled_reason in (MAKER_REMOVED, MAKER_DEMOTED)
        why = MAKER_LOST if lost else "This service account is disabled."
        raise OAuthError("unauthorized_client", why, basic=basic)
    held = _scopes_of(item)
    if not held:
        raise OAuthError("invalid_scope", "This service account holds no scope.", basic=basic)
    scopes = held if requested is None else requested
    if not scopes <= held:
        beyond = ", ".join(sorted_scopes(scopes - held))
        raise OAuthError("invalid_scope", f"Scope not granted to this client: {beyond}.", basic=basic)
    at = now()
    lifetime = get_settings().service_token_seconds
    maker = maker_of(item)
    token = f"{TOKEN_PREFIX}_{client_id.removeprefix('sa_')}{_names_maker(item.org_id, maker)}"
    token += new_secret(TOKEN_PREFIX).removeprefix("osa_")
    expires_at = at + timedelta(seconds=lifetime)
    token_row = ServiceAccountModel(
        client_id,
        token_item(hash_secret(token)),
        secret_id=secret_id,
        scopes={s.value for s in scopes},
        generation=int(item.generation or 0),
        created_at=at,
        expires_at=expires_at,
        expires_ttl=int(expires_at.timestamp()) + 1,
    )

    def commit() -> None:
        tx = Tx()
        tx.put(token_row, condition=ServiceAccountModel.item.does_not_exist())
        # The secret's last use, and the grant's own conditions: a secret deleted or an account
        # disabled since the read above mints nothing.
        tx.update(
            item,
            [ServiceAccountModel.secrets[secret_id]["last_used_at"].set(iso(at))],
            condition=ServiceAccountModel.secrets[secret_id].exists()
            & (ServiceAccountModel.disabled == False)  # noqa: E712  (a DynamoDB condition)
            & (ServiceAccountModel.generation == int(item.generation or 0)),
            on_fail=lambda _reason: refused,
        )
        if maker is not None:  # the maker still may manage service accounts, in the same membership
            assert item.org_id is not None
            tx.check(
                MemberModel,
                item.org_id,
                maker,
                members.still_holds_condition(POWER, item.member_joined_at),
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


@dataclass(frozen=True)
class _Read:
    account: ServiceAccountModel | None
    token: ServiceAccountModel | None
    member: MemberModel | None


def _read_all(sa_id: str, token_hash: str, member_key: tuple[str, str] | None) -> _Read:
    """Account, token and (when named) maker's member items in one consistent BatchGetItem.

    BatchGetItem reads several tables in one request; unprocessed keys are read again.
    """
    table = ServiceAccountModel.Meta.table_name
    members_table = MemberModel.Meta.table_name
    keys = [
        {"sa_id": {"S": sa_id}, "item": {"S": ACCOUNT}},
        {"sa_id": {"S": sa_id}, "item": {"S": token_item(token_hash)}},
    ]
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    if member_key is not None:
        org_id, account_id = member_key
        member = {"org_id": {"S": org_id}, "account_id": {"S": account_id}}
        request[members_table] = {"Keys": [member], "ConsistentRead": True}
    found: dict[str, list[dict[str, Any]]] = {table: [], members_table: []}
    for _ in range(3):
        answer = answered(functools.partial(client().batch_get_item, RequestItems=request))
        for name, rows in answer.get("Responses", {}).items():
            found.setdefault(name, []).extend(rows)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise ServiceUnavailable()
    items = [ServiceAccountModel.from_raw_data(raw) for raw in found[table]]
    members_found = [MemberModel.from_raw_data(raw) for raw in found[members_table]]
    return _Read(
        account=next((i for i in items if i.item == ACCOUNT), None),
        token=next((i for i in items if i.item != ACCOUNT), None),
        member=members_found[0] if members_found else None,
    )


def _maker_may(account: ServiceAccountModel, read: _Read, named: tuple[str, str] | None) -> bool:
    """Whether the account's maker still may manage service accounts (no maker: nothing to check).

    The token names the maker's member item, read in the same BatchGetItem; it
    must name the account's own org and maker. A token that names none (granted
    before tokens named their maker) costs one more consistent read.
    """
    maker = maker_of(account)
    if maker is None:
        return named is None
    assert account.org_id is not None
    if named is None:
        return _maker_holds(account, members.get_item(account.org_id, maker))
    if named != (account.org_id, maker):
        return False
    return _maker_holds(account, read.member)


def authenticate(secret: str | None, request_id: str) -> Actor:
    """Resolve an access token to an actor bound to its org and scopes, or raise Unauthenticated."""
    match = _TOKEN_SHAPE.match(secret or "")
    if not secret or not match:
        raise Unauthenticated(REFUSED)
    sa_id = f"sa_{match.group(1)}"
    named = (f"org_{match.group(2)}", f"acc_{match.group(3)}") if match.group(2) else None
    read = _read_all(sa_id, hash_secret(secret), named)
    account, token = read.account, read.token
    if (
        account is None
        or token is None
        or not account.org_id
        or account.disabled
        or token.expires_at is None
        or token.expires_at <= now()
        or token.secret_id not in _secrets_of(account)
        or int(token.generation or 0) != int(account.generation or 0)
        or not _maker_may(account, read, named)
    ):
        raise Unauthenticated(REFUSED)
    # Scopes narrowed since the grant are narrowed on the token too.
    scopes = frozenset(Scope(s) for s in (token.scopes or set()) if s in Scope._value2member_map_) & _scopes_of(account)
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
