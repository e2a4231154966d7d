"""Invitations as the services return them: the invitation, its statuses, per-item bulk results,
and the decisions on plain values that name an invitation's status and its email's delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .outcomes import Outcome
from .roles import Role


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class DeliveryStatus(StrEnum):
    """The invitation email's delivery."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


PENDING, ACCEPTED = InvitationStatus.PENDING, InvitationStatus.ACCEPTED
EXPIRED, REVOKED = InvitationStatus.EXPIRED, InvitationStatus.REVOKED
STATUSES = tuple(InvitationStatus)
QUEUED, SENDING = DeliveryStatus.QUEUED, DeliveryStatus.SENDING
SENT, FAILED = DeliveryStatus.SENT, DeliveryStatus.FAILED


STUCK_SEND = "The email was not confirmed sent; it is sent again within the hour (or resend it)."


def status_at(stored: str, expires_at: datetime | None, at: datetime) -> InvitationStatus:
    """A pending invitation at or past its expiry is expired, whether or not the expiry job has run."""
    if stored == PENDING and expires_at is not None and expires_at <= at:
        return EXPIRED
    return InvitationStatus(stored)


def delivery_at(
    stored: str | None, error: str | None, send_claimed_at: datetime | None, lease: timedelta, at: datetime
) -> tuple[DeliveryStatus | None, str | None]:
    """(status, error) of the invitation's email: a send claimed longer than ``lease`` ago is ``failed``.

    Its process died between claiming and recording; until a replay or the
    hourly job takes it again, nobody should read "sending" as "on its way".
    """
    if stored == SENDING and send_claimed_at is not None and send_claimed_at <= at - lease:
        return FAILED, STUCK_SEND
    return (DeliveryStatus(stored) if stored else None), error


@dataclass(frozen=True)
class Invitation:
    invitation_id: str
    org_id: str
    email: str
    role: Role
    status: InvitationStatus
    expires_at: datetime | None
    issue: int
    invited_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    accepted_at: datetime | None
    accepted_by: str | None
    revoked_at: datetime | None
    delivery_status: DeliveryStatus | None
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
    status: Outcome
    line: int | None = None
    role: str | None = None
    invitation_id: str | None = None
    account_id: str | None = None
    message: str | None = None
    retry_after: int | None = None


@dataclass
class IdResult:
    invitation_id: str
    status: Outcome
    message: str | None = None
    retry_after: int | None = None


@dataclass
class BulkOutcome:
    results: list[Any]
    summary: dict[str, int] = field(default_factory=dict)
