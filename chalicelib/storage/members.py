"""Members table (stream: NEW_AND_OLD_IMAGES).

Keys: ``org_id`` (hash), ``account_id`` (range).
Indexes:
- GSI ``by_account``: (account_id, org_id), for "my memberships".
- LSI ``by_email``: (org_id, email), lower-cased email; serves the
  ``email_prefix`` filter and SCIM ``userName eq`` as a query, not a scan.
``seat_generation`` increases on every seat revocation; tokens stamp it at
issue, so a token issued before a revoke stays dead after a re-assign.
``seat_notify`` tells the stream handler whether to email a new seat holder;
``seat_notified_generation`` is its claim (one email per assignment).
``group_ids``: the member's pushed SCIM groups, changed only together with
the group membership items and conditioned on ``updated_at``.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from .base import register


class MembersByAccount(GlobalSecondaryIndex["MemberModel"]):
    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute(range_key=True)


class MembersByEmail(LocalSecondaryIndex["MemberModel"]):
    class Meta:
        index_name = "by_email"
        projection = AllProjection()

    org_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


@register
class MemberModel(Model):
    class Meta:
        base_name = "members"
        table_name = "members"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    org_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    has_seat = BooleanAttribute(default=False)
    seat_generation = NumberAttribute(default=0)
    seat_assigned_at = UTCDateTimeAttribute(null=True)
    seat_notify = BooleanAttribute(null=True)
    seat_notified_generation = NumberAttribute(null=True)
    external_id = UnicodeAttribute(null=True)
    # SCIM name/displayName/emails as the IdP sent them (JSON), for round-trips.
    scim_profile = UnicodeAttribute(null=True)
    # The SCIM groups (storage/groups.py) the member is in; absent when none.
    group_ids = UnicodeSetAttribute(null=True)
    joined_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_account = MembersByAccount()
    by_email = MembersByEmail()
