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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..clock import iso
from ..domain.invitations import EXPIRED, PENDING
from .base import Tx, TxItem, register

NO_INVITATION = "none"
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
