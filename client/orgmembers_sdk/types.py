"""Response shapes (as in ``/openapi.json``), for type checkers and editors; at run time they are plain dicts."""

from __future__ import annotations

from typing import Any, TypedDict


class Membership(TypedDict):
    org_id: str
    org_name: str | None
    role: str
    seat: bool


class Me(TypedDict):
    account_id: str
    email: str
    name: str | None
    created_at: str
    memberships: list[Membership]


class Seats(TypedDict):
    capacity: int
    used: int
    available: int


class Org(TypedDict):
    org_id: str
    name: str
    created_at: str
    seats: Seats
    member_count: int
    admin_count: int
    your_role: str | None


class Member(TypedDict):
    org_id: str
    account_id: str
    email: str
    name: str | None
    role: str
    seat: bool
    seat_assigned_at: str | None
    joined_at: str
    updated_at: str


class Delivery(TypedDict):
    status: str | None
    error: str | None
    sent_at: str | None


class Invitation(TypedDict):
    invitation_id: str
    email: str
    role: str
    status: str
    expires_at: str | None
    issue: int
    invited_by: str | None
    created_at: str | None
    delivery: Delivery


class InviteResult(TypedDict, total=False):
    email: str
    status: str
    line: int | None
    role: str | None
    invitation_id: str | None
    message: str | None
    retry_after: int | None


class IdResult(TypedDict, total=False):
    invitation_id: str
    status: str
    message: str | None
    retry_after: int | None


class BulkSeatItem(TypedDict):
    account_id: str
    status: str


class OnboardedToken(TypedDict):
    token_id: str
    name: str
    expires_at: str
    secret: str


class OnboardItem(TypedDict):
    email: str
    status: str
    account_id: str | None
    seat: bool
    token: OnboardedToken | None


class Token(TypedDict, total=False):
    token_id: str
    org_id: str
    account_id: str
    name: str
    status: str
    created_at: str
    expires_at: str
    last_used_at: str | None
    revoked_at: str | None
    revoked_reason: str | None
    created_by: dict[str, Any] | None
    secret: str


class AuditEntry(TypedDict):
    audit_id: str
    at: str
    actor: str
    action: str
    target: str
    request_id: str
    details: dict[str, Any]


class Bulk(TypedDict):
    """A bulk answer: per-item results and counts per status."""

    items: list[Any]
    summary: dict[str, int]
