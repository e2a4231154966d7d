"""Plain domain objects returned by repositories and services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .roles import Permission, Role, Scope


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    name: str | None
    created_at: datetime


@dataclass(frozen=True)
class Organization:
    org_id: str
    name: str
    seat_capacity: int
    seats_used: int
    admin_count: int
    member_count: int
    created_at: datetime

    @property
    def seats_available(self) -> int:
        return max(self.seat_capacity - self.seats_used, 0)


@dataclass(frozen=True)
class Member:
    org_id: str
    account_id: str
    email: str
    role: Role
    has_seat: bool
    seat_generation: int
    joined_at: datetime
    updated_at: datetime
    seat_assigned_at: datetime | None = None
    name: str | None = None
    external_id: str | None = None
    scim_profile: str | None = None  # SCIM name/displayName/emails as the IdP sent them (JSON)
    group_ids: frozenset[str] = frozenset()  # the SCIM groups the member was pushed into


@dataclass(frozen=True)
class Standing:
    """What of a member item decides whether its holder still has a power: role and membership."""

    role: str | None
    joined_at: datetime


@dataclass(frozen=True)
class MemberImage:
    """A member item as a Members stream record shows it, before or after a change."""

    email: str
    role: str
    has_seat: bool
    seat_generation: int
    seat_notify: bool | None
    joined_at: datetime


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account authenticated by a personal API key."""

    account_id: str
    email: str
    key_id: str

    @property
    def actor(self) -> str:
        return f"account:{self.account_id}"


@dataclass(frozen=True)
class AuditEntry:
    org_id: str
    audit_id: str
    at: datetime
    actor: str
    action: str
    target: str
    request_id: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One page of a list with an opaque cursor for the next one."""

    items: list[Any]
    next_cursor: str | None


@dataclass(frozen=True)
class Actor:
    """Who is making a change and under which request: stamped on every audit record."""

    actor: str  # "account:<id>", "scim:<token id>", "service_account:<id>" or "system:<job>"
    request_id: str
    account_id: str | None = None
    # Set for credentials bound to one org (SCIM tokens, service accounts): they act there only.
    scope_org: str | None = None
    # Service accounts: the scopes of the token and what they allow; None for every other
    # caller (a SCIM token acts as admin in its org, a person as their role).
    scopes: frozenset[Scope] | None = None
    permissions: frozenset[Permission] | None = None

    @property
    def is_service_account(self) -> bool:
        return self.scopes is not None

    @classmethod
    def account(cls, principal: Principal, request_id: str) -> Actor:
        return cls(actor=principal.actor, request_id=request_id, account_id=principal.account_id)

    @classmethod
    def system(cls, job: str, request_id: str) -> Actor:
        return cls(actor=f"system:{job}", request_id=request_id)
