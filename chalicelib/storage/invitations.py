"""Invitations table (stream: NEW_AND_OLD_IMAGES).

Keys: ``org_id`` (hash), ``invitation_id`` (range).
There is one item per (org, email): ``invitation_id = slot_id(org, email)``
is derived from the email, so "one pending invitation per (org, email)" is
a key condition, not a prior read. The same item is the org's roster by
email: ``member_account_id`` is set while that email is a member (every
membership change updates it in its transaction), so a bulk invite learns
``already_invited`` / ``already_member`` from the conditions of its own
writes. Items that only mark a member (no invitation ever sent) have
``status = "none"`` and are not listed as invitations.
Index: sparse GSI ``pending_by_expiry`` on (``pending_shard``, ``expires_at``):
``pending_shard`` is set only while the invitation is pending, so the hourly
expiry job reads only pending items that are due (cost follows due items,
not table size).
The link secret is never stored: ``link_nonce`` is the random part of the
current link, and the secret part is HMAC(server key, org, id, nonce), derived
again when needed (see ``services.invitation_links``). A new nonce on every
(re)issue retires the previous link at once.
Index: sparse GSI ``sending_by_claim`` on (``sending_shard``, ``send_claimed_at``):
set while an email is claimed and not yet recorded sent or failed, so the
hourly job finds sends a crash left behind (cost follows stuck sends).
``issued_at`` is when the current issue was made (the resend cooldown is a
condition on it). ``issue`` counts (re)issues; ``delivered_issue`` records which issue was claimed
for emailing, so a replayed stream batch sends no second email.

This module is the table's repository: services read and write invitation
slots only through its functions, which take and return
``domain.invitations.StoredInvitation``; every decision that a write makes
is its condition here, named by what it means (a free slot, a resendable
invitation, the very issue an accept read).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..clock import iso, parse_iso
from ..domain.invitations import (
    ACCEPTED,
    EXPIRED,
    FAILED,
    NO_INVITATION,
    PENDING,
    QUEUED,
    REVOKED,
    SENDING,
    SENT,
    STATUSES,
    StoredInvitation,
)
from ..domain.roles import Role
from .base import Failure, Tx, TxItem, cursor_page, register, update_if

# The expiry index is spread over a few fixed shards: one GSI partition takes
# about 1,000 writes/s, and a 1,000-row upload lands its pending items in about
# a second; 8 shards leave room for several uploads at once, and the hourly job
# pays 8 small queries when nothing is due.
PENDING_SHARDS = 8


def pending_shard_of(invitation_id: str) -> str:
    """The expiry-index shard of an invitation (stable, from its id)."""
    return f"p{int(hashlib.sha256(invitation_id.encode()).hexdigest()[:8], 16) % PENDING_SHARDS}"


def slot_id(org_id: str, normalized_email: str) -> str:
    """The invitation id of an (org, email) pair: stable, opaque, unique per pair."""
    digest = hashlib.sha256(f"{org_id}\n{normalized_email}".encode()).hexdigest()
    return f"inv_{digest[:24]}"


class SendingByClaim(GlobalSecondaryIndex["InvitationModel"]):
    class Meta:
        index_name = "sending_by_claim"
        projection = AllProjection()

    sending_shard = UnicodeAttribute(hash_key=True)
    send_claimed_at = UnicodeAttribute(range_key=True)


class PendingByExpiry(GlobalSecondaryIndex["InvitationModel"]):
    class Meta:
        index_name = "pending_by_expiry"
        projection = AllProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


@register
class InvitationModel(Model):
    class Meta:
        base_name = "invitations"
        table_name = "invitations"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    org_id = UnicodeAttribute(hash_key=True)
    invitation_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    role = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    expires_at = UnicodeAttribute(null=True)  # ISO 8601 UTC, sorts lexically
    member_account_id = UnicodeAttribute(null=True)
    pending_shard = UnicodeAttribute(null=True)
    issue = NumberAttribute(default=1)
    link_nonce = UnicodeAttribute(null=True)
    invited_by = UnicodeAttribute(null=True)
    inviter = UnicodeAttribute(null=True)  # display name/email of whoever (re)issued it, for the email
    revoked_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    issued_at = UnicodeAttribute(null=True)  # ISO 8601 UTC of the last (re)issue: the resend cooldown
    accepted_at = UTCDateTimeAttribute(null=True)
    accepted_by = UnicodeAttribute(null=True)
    delivery_status = UnicodeAttribute(null=True)
    delivery_error = UnicodeAttribute(null=True)
    delivered_issue = NumberAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    sending_shard = UnicodeAttribute(null=True)
    send_claimed_at = UnicodeAttribute(null=True)  # ISO 8601 UTC of the claim (its lease starts then)

    pending_by_expiry = PendingByExpiry()
    sending_by_claim = SendingByClaim()


@dataclass(frozen=True)
class DueInvitation:
    """A pending invitation past its expiry, as the expiry job reads it from the sparse index."""

    org_id: str
    invitation_id: str
    email: str
    link_nonce: str


def due_pending(at: datetime) -> Iterator[DueInvitation]:
    """Pending invitations whose expiry is at or before ``at`` (one query of the sparse index per shard)."""
    stamp = iso(at)
    for shard in range(PENDING_SHARDS):
        for item in InvitationModel.pending_by_expiry.query(f"p{shard}", InvitationModel.expires_at <= stamp):
            yield DueInvitation(item.org_id, item.invitation_id, item.email, item.link_nonce or "")


def expire_in(tx: Tx, due: DueInvitation, at: datetime) -> TxItem:
    """Mark a due invitation expired in the transaction, only while it is still the pending issue read.

    A reissue in between (new link, new expiry) fails the condition and wins.
    """
    return tx.update(
        InvitationModel(due.org_id, due.invitation_id),
        [
            InvitationModel.status.set(EXPIRED),
            InvitationModel.pending_shard.remove(),
            InvitationModel.updated_at.set(at),
        ],
        condition=(InvitationModel.status == PENDING)
        & (InvitationModel.link_nonce == due.link_nonce)
        & (InvitationModel.expires_at <= iso(at)),
    )


# --- reading -------------------------------------------------------------------


def _stamp(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _stored(item: InvitationModel) -> StoredInvitation:
    return StoredInvitation(
        org_id=item.org_id,
        invitation_id=item.invitation_id,
        email=item.email,
        status=item.status,
        role=item.role,
        expires_at=_stamp(item.expires_at),
        member_account_id=item.member_account_id,
        issue=int(item.issue or 0),
        link_nonce=item.link_nonce,
        invited_by=item.invited_by,
        inviter=item.inviter,
        created_at=item.created_at,
        updated_at=item.updated_at,
        issued_at=_stamp(item.issued_at),
        accepted_at=item.accepted_at,
        accepted_by=item.accepted_by,
        revoked_at=item.revoked_at,
        delivery_status=item.delivery_status,
        delivery_error=item.delivery_error,
        delivered_issue=int(item.delivered_issue) if item.delivered_issue is not None else None,
        delivered_at=item.delivered_at,
        send_claimed_at=_stamp(item.send_claimed_at),
    )


def item_of(invitation: StoredInvitation) -> InvitationModel:
    """The table item of a new invitation (what ``put_new_in`` writes; seeding tools write it directly)."""
    return InvitationModel(
        invitation.org_id,
        invitation.invitation_id,
        email=invitation.email,
        role=invitation.role,
        status=invitation.status,
        expires_at=iso(invitation.expires_at) if invitation.expires_at else None,
        pending_shard=pending_shard_of(invitation.invitation_id) if invitation.status == PENDING else None,
        issue=invitation.issue,
        link_nonce=invitation.link_nonce,
        invited_by=invitation.invited_by,
        inviter=invitation.inviter,
        created_at=invitation.created_at,
        updated_at=invitation.updated_at,
        issued_at=iso(invitation.issued_at) if invitation.issued_at else None,
        delivery_status=invitation.delivery_status,
    )


def get(org_id: str, invitation_id: str) -> StoredInvitation | None:
    """The slot (a consistent read), or None."""
    try:
        return _stored(InvitationModel.get(org_id, invitation_id, consistent_read=True))
    except DoesNotExist:
        return None


def of_image(raw: dict[str, Any] | None) -> StoredInvitation | None:
    """A slot from an image in DynamoDB JSON: a stream record's, or a failed condition's old item."""
    return _stored(InvitationModel.from_raw_data(raw)) if raw else None


def _status_filter(status: str | None, at: str) -> Condition:
    """Invitations (never the member-only marks) by effective status: a pending one past its expiry is expired."""
    if status is None:
        return InvitationModel.status.is_in(*STATUSES)
    if status == PENDING:
        return (InvitationModel.status == PENDING) & (InvitationModel.expires_at > at)
    if status == EXPIRED:
        return (InvitationModel.status == EXPIRED) | (
            (InvitationModel.status == PENDING) & (InvitationModel.expires_at <= at)
        )
    return InvitationModel.status == status


def page_of(
    org_id: str, status: str | None, at: datetime, limit: int, cursor: str | None
) -> tuple[list[StoredInvitation], str | None]:
    """One page of the org's invitations, optionally of one effective status at ``at``."""
    filters = _status_filter(status, iso(at))
    items, next_cursor = cursor_page(
        cursor,
        {"org_id": org_id},
        ("org_id", "invitation_id"),
        lambda start: InvitationModel.query(org_id, filter_condition=filters, limit=limit, last_evaluated_key=start),
    )
    return [_stored(i) for i in items], next_cursor


# --- issuing, removing, accepting ------------------------------------------------


def put_new_in(tx: Tx, invitation: StoredInvitation, at: datetime) -> TxItem:
    """Put a fresh invitation into its slot, only while the slot is free (the old item on failure).

    Free: never used, or no member and no live pending invitation (an expired
    one may be replaced). A put, not an update: nothing of such a slot is worth
    keeping, and a put is much cheaper for the engine than a long update.
    """
    condition = InvitationModel.org_id.does_not_exist() | (
        InvitationModel.member_account_id.does_not_exist()
        & ((InvitationModel.status != PENDING) | (InvitationModel.expires_at <= iso(at)))
    )
    return tx.put(item_of(invitation), condition=condition, return_old=True)


def reissue_in(
    tx: Tx,
    org_id: str,
    invitation_id: str,
    *,
    nonce: str,
    expires_at: datetime,
    invited_by: str,
    inviter: str | None,
    at: datetime,
    issued_before: datetime,
    not_admin: bool,
) -> TxItem:
    """Issue the invitation again (new link nonce, new expiry, next issue, email queued), the old item on failure.

    Only while it is resendable: pending, expired or removed, no member, and
    last (re)issued at or before ``issued_before`` (items from before
    ``issued_at`` existed pass); ``not_admin``: only if it is not an
    account_admin invitation.
    """
    condition = (
        InvitationModel.status.is_in(PENDING, EXPIRED, REVOKED)
        & InvitationModel.member_account_id.does_not_exist()
        & (InvitationModel.issued_at.does_not_exist() | (InvitationModel.issued_at <= iso(issued_before)))
    )
    if not_admin:
        condition &= InvitationModel.role != Role.ACCOUNT_ADMIN.value
    actions: list[Any] = [
        InvitationModel.status.set(PENDING),
        InvitationModel.expires_at.set(iso(expires_at)),
        InvitationModel.pending_shard.set(pending_shard_of(invitation_id)),
        InvitationModel.issue.set((InvitationModel.issue | 0) + 1),
        InvitationModel.link_nonce.set(nonce),
        InvitationModel.invited_by.set(invited_by),
        InvitationModel.updated_at.set(at),
        InvitationModel.issued_at.set(iso(at)),
        InvitationModel.delivery_status.set(QUEUED),
        InvitationModel.sending_shard.remove(),
        InvitationModel.send_claimed_at.remove(),
        InvitationModel.delivery_error.remove(),
        InvitationModel.delivered_at.remove(),
        InvitationModel.revoked_at.remove(),
        InvitationModel.accepted_at.remove(),
        InvitationModel.accepted_by.remove(),
        InvitationModel.inviter.set(inviter) if inviter else InvitationModel.inviter.remove(),
    ]
    return tx.update(InvitationModel(org_id, invitation_id), actions, condition=condition, return_old=True)


def revoke_in(tx: Tx, org_id: str, invitation_id: str, at: datetime) -> TxItem:
    """Remove a pending or expired invitation (its link stops at once), the old item on failure."""
    return tx.update(
        InvitationModel(org_id, invitation_id),
        [
            InvitationModel.status.set(REVOKED),
            InvitationModel.pending_shard.remove(),
            InvitationModel.revoked_at.set(at),
            InvitationModel.updated_at.set(at),
        ],
        condition=InvitationModel.status.is_in(PENDING, EXPIRED),
        return_old=True,
    )


def accept_in(tx: Tx, read: StoredInvitation, account_id: str, at: datetime, on_fail: Failure) -> TxItem:
    """Mark the invitation accepted by ``account_id``, only while it is the very issue and link that were read.

    Still pending, not yet due, no member: of concurrent accepts exactly one commits.
    """
    return tx.update(
        InvitationModel(read.org_id, read.invitation_id),
        [
            InvitationModel.status.set(ACCEPTED),
            InvitationModel.member_account_id.set(account_id),
            InvitationModel.accepted_at.set(at),
            InvitationModel.accepted_by.set(account_id),
            InvitationModel.updated_at.set(at),
            InvitationModel.pending_shard.remove(),
        ],
        condition=(InvitationModel.status == PENDING)
        & (InvitationModel.link_nonce == read.link_nonce)
        & (InvitationModel.issue == read.issue)
        & (InvitationModel.expires_at > iso(at))
        & InvitationModel.member_account_id.does_not_exist(),
        on_fail=on_fail,
    )


def mark_member_in(tx: Tx, org_id: str, email: str, account_id: str) -> TxItem:
    """Record on the (org, email) slot that this email is a member; a pending invitation's link dies with it.

    No nonce: the link stops; no shard: the expiry job stops seeing it; status
    ``none``: it leaves the invitation list.
    """
    return tx.update(
        InvitationModel(org_id, slot_id(org_id, email)),
        [
            InvitationModel.member_account_id.set(account_id),
            InvitationModel.email.set(InvitationModel.email | email),
            InvitationModel.status.set(NO_INVITATION),
            InvitationModel.link_nonce.remove(),
            InvitationModel.pending_shard.remove(),
        ],
    )


def clear_member_in(tx: Tx, org_id: str, email: str) -> TxItem:
    """Record on the (org, email) slot that this email is no longer a member."""
    return tx.update(InvitationModel(org_id, slot_id(org_id, email)), [InvitationModel.member_account_id.remove()])


# --- the email's send --------------------------------------------------------------


def claim_send(invitation: StoredInvitation, at: datetime, lease_from: datetime) -> bool:
    """Take the send of this issue: queued, or claimed at or before ``lease_from`` (a dead claim).

    False when someone holds a live claim, the email was recorded, or the invitation moved on.
    """
    queued = InvitationModel.delivery_status == QUEUED
    lost = (
        (InvitationModel.delivery_status == SENDING)
        & (InvitationModel.delivered_issue == invitation.issue)
        & (InvitationModel.send_claimed_at <= iso(lease_from))
    )
    return update_if(
        InvitationModel(invitation.org_id, invitation.invitation_id),
        [
            InvitationModel.delivery_status.set(SENDING),
            InvitationModel.delivered_issue.set(invitation.issue),
            InvitationModel.send_claimed_at.set(iso(at)),
            InvitationModel.sending_shard.set(pending_shard_of(invitation.invitation_id)),
        ],
        (InvitationModel.issue == invitation.issue)
        & (InvitationModel.link_nonce == invitation.link_nonce)
        & (InvitationModel.status == PENDING)
        & (queued | lost),
    )


def record_send_in(tx: Tx, invitation: StoredInvitation, error: str | None, at: datetime) -> TxItem:
    """Store the claimed send's outcome (sent; failed with ``error``) on that issue only.

    A newer issue keeps its own ``queued`` (the condition fails).
    """
    actions: list[Any] = [
        InvitationModel.delivery_status.set(FAILED if error else SENT),
        InvitationModel.send_claimed_at.remove(),
        InvitationModel.sending_shard.remove(),
    ]
    if error:
        actions.append(InvitationModel.delivery_error.set(error))
    else:
        actions += [InvitationModel.delivered_at.set(at), InvitationModel.delivery_error.remove()]
    return tx.update(
        InvitationModel(invitation.org_id, invitation.invitation_id),
        actions,
        condition=(InvitationModel.issue == invitation.issue) & (InvitationModel.delivery_status == SENDING),
    )


def claims_made_by(cutoff: datetime) -> Iterator[StoredInvitation]:
    """Invitations whose send was claimed at or before ``cutoff`` and never recorded (one query per shard)."""
    stamp = iso(cutoff)
    for shard in range(PENDING_SHARDS):
        for item in InvitationModel.sending_by_claim.query(f"p{shard}", InvitationModel.send_claimed_at <= stamp):
            yield _stored(item)


def forget_claim(invitation: StoredInvitation) -> bool:
    """Take a dead claim out of the index, unless the invitation was claimed again since (then False)."""
    claimed = iso(invitation.send_claimed_at) if invitation.send_claimed_at else ""
    return update_if(
        InvitationModel(invitation.org_id, invitation.invitation_id),
        [InvitationModel.sending_shard.remove(), InvitationModel.send_claimed_at.remove()],
        InvitationModel.send_claimed_at == claimed,
    )
