"""Invitations as the services return them: the invitation, its statuses, and per-item bulk results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .roles import Role

PENDING, ACCEPTED, EXPIRED, REVOKED = "pending", "accepted", "expired", "revoked"
STATUSES = (PENDING, ACCEPTED, EXPIRED, REVOKED)
# The invitation email's delivery.
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"

FORBIDDEN = "forbidden"  # per item: the caller stopped managing invitations during the call

INVITE_STATUSES = (
    "invited",
    "already_invited",
    "already_member",
    "invalid_email",
    "invalid_role",
    "duplicate_in_request",
    "invitation_quota_exceeded",
)
RESEND_STATUSES = (
    "resent",
    "already_accepted",
    "already_member",
    "not_found",
    "duplicate_in_request",
    "resend_too_soon",
    "resend_quota_exceeded",
)
REMOVE_STATUSES = ("removed", "already_removed", "already_accepted", "not_found", "duplicate_in_request")


@dataclass(frozen=True)
class Invitation:
    invitation_id: str
    org_id: str
    email: str
    role: Role
    status: str
    expires_at: datetime | None
    issue: int
    invited_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    accepted_at: datetime | None
    accepted_by: str | None
    revoked_at: datetime | None
    delivery_status: str | None
    delivery_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class InviteItem:
    """One invitee as given: the raw email and role (None: the request's default), and its CSV line."""

    email: str
    role: str | None = None
    line: int | None = None


@dataclass
class InviteResult:
    email: str
    status: str
    line: int | None = None
    role: str | None = None
    invitation_id: str | None = None
    account_id: str | None = None
    message: str | None = None
    retry_after: int | None = None


@dataclass
class IdResult:
    invitation_id: str
    status: str
    message: str | None = None
    retry_after: int | None = None


@dataclass
class BulkOutcome:
    results: list[Any]
    summary: dict[str, int] = field(default_factory=dict)


def summary(results: Iterable[Any], statuses: Iterable[str]) -> dict[str, int]:
    """``total`` and a count per status (every listed status present, zero or not)."""
    counts = dict.fromkeys(statuses, 0)
    total = 0
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
        total += 1
    return {"total": total, **counts}
