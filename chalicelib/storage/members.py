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

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from ..domain.models import MemberImage
from ..domain.tokens import SeatStamp
from .base import Failure, Tx, TxItem, read_consistent, register, update_if


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


def seat_stamp_of(item: MemberModel) -> SeatStamp:
    return SeatStamp(
        has_seat=bool(item.has_seat), seat_generation=int(item.seat_generation or 0), joined_at=item.joined_at
    )


def seat_stamp(org_id: str, account_id: str) -> SeatStamp | None:
    """The member item's seat and membership stamp, read consistently (None: not a member)."""
    item = read_consistent(
        MemberModel,
        {"org_id": {"S": org_id}, "account_id": {"S": account_id}},
        ["has_seat", "seat_generation", "joined_at"],
    )
    return seat_stamp_of(item) if item else None


def check_seat_in(tx: Tx, org_id: str, account_id: str, stamp: SeatStamp, on_fail: Failure) -> TxItem:
    """Condition the transaction on the member still holding the seat and membership of ``stamp``."""
    return tx.check(
        MemberModel,
        org_id,
        account_id,
        (MemberModel.has_seat == True)  # noqa: E712  (a DynamoDB condition, not a comparison)
        & (MemberModel.seat_generation == stamp.seat_generation)
        & (MemberModel.joined_at == stamp.joined_at),
        on_fail=on_fail,
    )


def admin_emails(org_id: str, role: str) -> list[tuple[str, str]]:
    """(account id, email) of the org's members holding ``role`` (one query of the org's partition)."""
    return [(m.account_id, m.email) for m in MemberModel.query(org_id, filter_condition=MemberModel.role == role)]


def image_of(raw: dict[str, Any]) -> MemberImage:
    """A stream record's image of a member item (decoded with the table's model, so typed)."""
    item = MemberModel.from_raw_data(raw)
    return MemberImage(
        email=item.email,
        role=item.role,
        has_seat=bool(item.has_seat),
        seat_generation=int(item.seat_generation or 0),
        seat_notify=item.seat_notify,
        joined_at=item.joined_at,
    )


def claim_seat_notice(org_id: str, account_id: str, generation: int) -> bool:
    """Take the right to email about the seat of ``generation``; False when it was taken or the seat is gone."""
    condition = (
        (MemberModel.has_seat == True)  # noqa: E712  (a DynamoDB condition)
        & (MemberModel.seat_generation == generation)
        & (MemberModel.seat_notified_generation.does_not_exist() | (MemberModel.seat_notified_generation < generation))
    )
    # False: already sent, or the seat is gone again.
    return update_if(MemberModel(org_id, account_id), [MemberModel.seat_notified_generation.set(generation)], condition)


def release_seat_notice(org_id: str, account_id: str, generation: int) -> None:
    """Give a claimed seat notice back (its email could not be sent yet)."""
    MemberModel(org_id, account_id).update(
        actions=[MemberModel.seat_notified_generation.remove()],
        condition=MemberModel.seat_notified_generation == generation,
    )
