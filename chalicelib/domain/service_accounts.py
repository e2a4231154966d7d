"""Service accounts as stored: the account with its secrets' hashes, and the access tokens it was granted.

These are what the ServiceAccounts repository takes and returns; the
service builds its outward ``ServiceAccount`` (never a hash) from them. The
decisions on them (what a change writes, whose account it is, whether a
token still stands) are plain functions here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .roles import Scope


@dataclass(frozen=True)
class StoredSecret:
    """One client secret: only the SHA-256 of the secret (``hash``) is kept."""

    secret_id: str
    hash: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class StoredServiceAccount:
    """An org's machine client as stored.

    ``version`` is raised by every management change (changes are conditioned
    on the one read); ``generation`` by every disabling, and a token works
    only under the generation it was granted in. ``account_id`` and
    ``member_joined_at`` name the maker's membership; ``disabled_reason`` and
    ``notice_pending`` are the maker cascade's.
    """

    sa_id: str
    org_id: str
    name: str
    scopes: frozenset[str]
    disabled: bool
    created_at: datetime
    secrets: dict[str, StoredSecret] = field(default_factory=dict)
    version: int = 0
    generation: int = 0
    created_by: str | None = None
    updated_at: datetime | None = None
    account_id: str | None = None
    member_joined_at: datetime | None = None
    disabled_reason: str | None = None
    notice_pending: str | None = None


@dataclass(frozen=True)
class GrantedToken:
    """One access token a grant issued, by the SHA-256 of its secret, under the account's generation."""

    sa_id: str
    token_hash: str
    secret_id: str
    scopes: frozenset[str]
    generation: int
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class AccountChange:
    """One management change to an account; the repository writes it under the version read.

    ``None`` (or False) leaves a part as it is.
    """

    name: str | None = None
    scopes: frozenset[str] | None = None
    disabled: bool | None = None
    raise_generation: bool = False  # a disabling: no token granted so far works again
    clear_disabled_reason: bool = False  # enabled again after the maker cascade disabled it
    add_secret: StoredSecret | None = None
    remove_secret: str | None = None


def scopes_of(names: frozenset[str]) -> frozenset[Scope]:
    """The scopes named (a name no longer known grants nothing)."""
    return frozenset(Scope(n) for n in names if n in Scope._value2member_map_)


def maker_of(account: StoredServiceAccount) -> str | None:
    """The account id of the admin who made the account; None for one made without a maker."""
    if account.account_id is not None:
        return account.account_id
    if account.created_by and account.created_by.startswith("account:"):
        return account.created_by.removeprefix("account:")  # made before accounts carried their maker
    return None


def plan_update(
    stored: StoredServiceAccount,
    name: str | None = None,
    scopes: frozenset[Scope] | None = None,
    disabled: bool | None = None,
) -> tuple[AccountChange, str, dict[str, Any]] | None:
    """What renaming, rescoping, disabling or enabling writes, the audit action and its details.

    None when nothing would change. Disabling raises the generation, so every
    token granted so far stays dead, also after enabling again; enabling an
    account the maker cascade disabled clears its reason (it still works only
    while its maker may manage service accounts).
    """
    change = AccountChange()
    details: dict[str, Any] = {}
    if name is not None and name != stored.name:
        change = replace(change, name=name)
        details["name"] = name
    if scopes is not None and scopes != scopes_of(stored.scopes):
        change = replace(change, scopes=frozenset(s.value for s in scopes))
        details["scopes"] = sorted(s.value for s in scopes)
    if disabled is not None and disabled != stored.disabled:
        change = replace(
            change,
            disabled=disabled,
            raise_generation=disabled,
            clear_disabled_reason=not disabled and stored.disabled_reason is not None,
        )
        details["disabled"] = disabled
    if not details:
        return None
    action = "service_account.updated"
    if set(details) == {"disabled"}:
        action = "service_account.disabled" if disabled else "service_account.enabled"
    return change, action, details


def token_stands(account: StoredServiceAccount | None, token: GrantedToken | None, at: datetime) -> bool:
    """Whether a granted token still works on its own terms (its maker's power is checked apart).

    The account is enabled, the token unexpired, its secret not deleted, and it
    was granted under the account's current generation.
    """
    return (
        account is not None
        and token is not None
        and not account.disabled
        and token.expires_at > at
        and token.secret_id in account.secrets
        and token.generation == account.generation
    )
