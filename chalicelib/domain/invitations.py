"""Invitations as the services return them: the invitation, its statuses, per-item bulk results,
and the decisions on plain values that name an invitation's status and its email's delivery."""

from __future__ import annotations

import math
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
NO_INVITATION = "none"  # the stored status of a slot that only marks a member (never listed)
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
class StoredInvitation:
    """The (org, email) slot as stored: the invitation's current issue, its link's nonce, its email's send.

    ``status`` is the stored word (``none`` on a slot that only marks a member);
    ``member_account_id`` is set while that email is a member. The link secret
    is not here: it is derived from ``link_nonce`` again when needed.
    """

    org_id: str
    invitation_id: str
    email: str
    status: str
    role: str | None = None
    expires_at: datetime | None = None
    member_account_id: str | None = None
    issue: int = 1
    link_nonce: str | None = None
    invited_by: str | None = None
    inviter: str | None = None  # who (re)issued it, as the email names them
    created_at: datetime | None = None
    updated_at: datetime | None = None
    issued_at: datetime | None = None  # the last (re)issue: the resend cooldown counts from it
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    revoked_at: datetime | None = None
    delivery_status: str | None = None
    delivery_error: str | None = None
    delivered_issue: int | None = None  # the issue whose email was claimed
    delivered_at: datetime | None = None
    send_claimed_at: datetime | None = None  # the send's lease starts here


def claimed_for_this_issue(invitation: StoredInvitation) -> bool:
    """Whether the current issue's email was already claimed (a replayed record sends nothing)."""
    return invitation.delivered_issue is not None and invitation.delivered_issue == invitation.issue


def wants_email(invitation: StoredInvitation) -> bool:
    """A pending invitation whose email is queued and not yet claimed for this issue."""
    return (
        invitation.status == PENDING
        and invitation.delivery_status == QUEUED
        and bool(invitation.link_nonce)
        and invitation.expires_at is not None
        and not claimed_for_this_issue(invitation)
    )


def claim_still_wanted(invitation: StoredInvitation) -> bool:
    """A dead send claim still stands for the invitation's current pending issue (else it moved on)."""
    return invitation.status == PENDING and claimed_for_this_issue(invitation)


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


def resend_refusal(old: StoredInvitation | None, by_service_account: bool) -> Outcome:
    """Why a resend's condition failed, from the slot as it was."""
    if old is None or old.status == NO_INVITATION:
        return Outcome.NOT_FOUND
    if by_service_account and old.role == Role.ACCOUNT_ADMIN.value:
        return Outcome.FORBIDDEN
    if old.status == ACCEPTED:
        return Outcome.ALREADY_ACCEPTED
    if old.member_account_id:
        return Outcome.ALREADY_MEMBER
    return Outcome.RESEND_TOO_SOON


def remove_refusal(old: StoredInvitation | None) -> Outcome:
    """Why a removal's condition failed, from the slot as it was."""
    if old is None or old.status == NO_INVITATION:
        return Outcome.NOT_FOUND
    if old.status == ACCEPTED:
        return Outcome.ALREADY_ACCEPTED
    return Outcome.ALREADY_REMOVED


def cooldown_left(old: StoredInvitation | None, at: datetime, cooldown: timedelta) -> int:
    """Whole seconds from ``at`` until the invitation may be resent again (at least 1)."""
    if old is None or old.issued_at is None:
        return 1
    return max(1, math.ceil((old.issued_at + cooldown - at).total_seconds()))
