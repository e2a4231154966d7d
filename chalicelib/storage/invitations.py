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
The link secret is never stored: ``link_hash`` is an HMAC with the server key.
``issue`` counts (re)issues; ``delivered_issue`` records which issue was emailed,
so a replayed stream batch sends no second email.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from .base import register

NO_INVITATION = "none"


def slot_id(org_id: str, normalized_email: str) -> str:
    """The invitation id of an (org, email) pair: stable, opaque, unique per pair."""
    digest = hashlib.sha256(f"{org_id}\n{normalized_email}".encode()).hexdigest()
    return f"inv_{digest[:24]}"


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
    link_hash = UnicodeAttribute(null=True)
    invited_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    accepted_at = UTCDateTimeAttribute(null=True)
    accepted_by = UnicodeAttribute(null=True)
    delivery_status = UnicodeAttribute(null=True)
    delivery_error = UnicodeAttribute(null=True)
    delivered_issue = NumberAttribute(null=True)

    pending_by_expiry = PendingByExpiry()
