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

This module is the table's repository: services read and write members only
through its functions, which take and return ``domain.models.Member``. A
change to a member read before is conditioned on the item being as read
(``_as_read``: role and seat), so a change made meanwhile fails it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from ..domain.models import Member, MemberImage
from ..domain.roles import Role
from ..domain.tokens import SeatStamp
from .base import Failure, Tx, TxItem, cursor_page, key_fits, read_consistent, register, update_if


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


# --- reading ---------------------------------------------------------------------


def member_of(item: MemberModel) -> Member:
    """The member an item holds (also for the storage modules that read member items themselves)."""
    return Member(
        org_id=item.org_id,
        account_id=item.account_id,
        email=item.email,
        role=Role(item.role),
        has_seat=bool(item.has_seat),
        seat_generation=int(item.seat_generation or 0),
        joined_at=item.joined_at,
        updated_at=item.updated_at,
        seat_assigned_at=item.seat_assigned_at,
        name=item.name,
        external_id=item.external_id,
        scim_profile=item.scim_profile,
        group_ids=frozenset(item.group_ids or ()),
    )


def get(org_id: str, account_id: str) -> Member | None:
    """The member (a consistent read), or None."""
    if not key_fits(org_id, account_id):
        return None
    try:
        return member_of(MemberModel.get(org_id, account_id, consistent_read=True))
    except DoesNotExist:
        return None


def many(org_id: str, account_ids: Iterable[str]) -> dict[str, Member]:
    """The listed accounts' memberships of the org, by account id (consistent BatchGetItem; absent: not members)."""
    keys = [(org_id, a) for a in dict.fromkeys(account_ids) if key_fits(org_id, a)]
    return {m.account_id: member_of(m) for m in MemberModel.batch_get(keys, consistent_read=True)} if keys else {}


def of_account(account_id: str) -> list[Member]:
    """Every membership of an account (the ``by_account`` index)."""
    return [member_of(i) for i in MemberModel.by_account.query(account_id)]


def page_of(
    org_id: str,
    *,
    role: Role | None,
    seat: bool | None,
    email_prefix: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Member], str | None]:
    """One page of the org's members, by account id (by email with ``email_prefix``), optionally filtered."""
    filters: Condition | None = None
    if role is not None:
        filters = MemberModel.role == role.value
    if seat is not None:
        by_seat = MemberModel.has_seat == seat
        filters = by_seat if filters is None else filters & by_seat
    key_names = ("org_id", "account_id", "email") if email_prefix else ("org_id", "account_id")

    def query(start: dict[str, Any] | None) -> Any:
        if email_prefix:
            return MemberModel.by_email.query(
                org_id,
                MemberModel.email.startswith(email_prefix.strip().lower()),
                filter_condition=filters,
                limit=limit,
                last_evaluated_key=start,
            )
        return MemberModel.query(org_id, filter_condition=filters, limit=limit, last_evaluated_key=start)

    items, next_cursor = cursor_page(cursor, {"org_id": org_id}, key_names, query)
    return [member_of(i) for i in items], next_cursor


# --- joining and leaving -----------------------------------------------------------


def item_of(member: Member) -> MemberModel:
    """The table item of a new membership (what ``add_in`` writes; seeding tools write it directly)."""
    return MemberModel(
        member.org_id,
        member.account_id,
        email=member.email,
        role=member.role.value,
        has_seat=member.has_seat,
        seat_generation=member.seat_generation,
        seat_assigned_at=member.seat_assigned_at,
        name=member.name,
        external_id=member.external_id,
        scim_profile=member.scim_profile,
        group_ids=set(member.group_ids) or None,
        joined_at=member.joined_at,
        updated_at=member.updated_at,
    )


def add_in(tx: Tx, member: Member, on_fail: Failure | None = None) -> TxItem:
    """Put a new membership, only while the account is not a member (``on_fail``: what that failure means)."""
    return tx.put(item_of(member), condition=MemberModel.account_id.does_not_exist(), on_fail=on_fail)


def _as_read(read: Member) -> Condition:
    """The member item is still there with the role and seat that were read."""
    return (
        MemberModel.account_id.exists()
        & (MemberModel.role == read.role.value)
        & (MemberModel.has_seat == read.has_seat)
        & (MemberModel.seat_generation == read.seat_generation)
    )


def delete_in(tx: Tx, read: Member, on_fail: Failure | None = None) -> TxItem:
    """Delete the membership, only while it is as read."""
    return tx.delete(MemberModel(read.org_id, read.account_id), condition=_as_read(read), on_fail=on_fail)


def change_role_in(tx: Tx, read: Member, role: Role, at: datetime, on_fail: Failure | None = None) -> TxItem:
    """Give the member ``role``, only while the membership is as read."""
    return tx.update(
        MemberModel(read.org_id, read.account_id),
        [MemberModel.role.set(role.value), MemberModel.updated_at.set(at)],
        condition=_as_read(read),
        on_fail=on_fail,
    )


def _seat_given(at: datetime, notify: bool) -> list[Any]:
    """A seat from ``at`` (``notify``: the stream emails the holder)."""
    return [MemberModel.has_seat.set(True), MemberModel.seat_assigned_at.set(at), MemberModel.seat_notify.set(notify)]


def _seat_taken() -> list[Any]:
    """No seat; the next ``seat_generation`` kills every token stamped with the old one at once (invariant 4),
    also after a later re-assignment."""
    return [
        MemberModel.has_seat.set(False),
        MemberModel.seat_generation.add(1),
        MemberModel.seat_assigned_at.remove(),
        MemberModel.seat_notify.remove(),
    ]


def assign_seat_in(tx: Tx, read: Member, notify: bool, at: datetime, on_fail: Failure | None = None) -> TxItem:
    """Give the member a seat (``notify``: the stream emails them), only while the membership is as read."""
    actions = [*_seat_given(at, notify), MemberModel.updated_at.set(at)]
    return tx.update(MemberModel(read.org_id, read.account_id), actions, condition=_as_read(read), on_fail=on_fail)


def revoke_seat_in(tx: Tx, read: Member, at: datetime, on_fail: Failure | None = None) -> TxItem:
    """Take the member's seat (their tokens die at once), only while the membership is as read."""
    actions = [*_seat_taken(), MemberModel.updated_at.set(at)]
    return tx.update(MemberModel(read.org_id, read.account_id), actions, condition=_as_read(read), on_fail=on_fail)


# --- a power still held --------------------------------------------------------------


def _holds(roles: Collection[Role], joined_at: datetime | None) -> Condition:
    condition = MemberModel.role.is_in(*[r.value for r in roles])
    return condition if joined_at is None else condition & (MemberModel.joined_at == joined_at)


def holds_in(
    tx: Tx, org_id: str, account_id: str, roles: Collection[Role], joined_at: datetime | None, on_fail: Failure
) -> TxItem:
    """Condition the transaction on the member holding one of ``roles``, in the membership joined at ``joined_at``."""
    return tx.check(MemberModel, org_id, account_id, _holds(roles, joined_at), on_fail=on_fail)


def guard_holds_in(
    tx: Tx,
    org_id: str,
    account_id: str,
    roles: Collection[Role],
    joined_at: datetime | None,
    error: Callable[[], Exception],
    still: Callable[[], bool],
) -> None:
    """``holds_in`` as the transaction's guard (``Tx.guard``): ``error`` when it fails, ``still`` re-checks."""
    tx.guard(MemberModel, org_id, account_id, _holds(roles, joined_at), error, still)


def of_org(org_id: str) -> list[Member]:
    """Every member of the org (one consistent Query of its partition)."""
    return [member_of(i) for i in MemberModel.query(org_id, consistent_read=True)] if key_fits(org_id) else []


def with_email(org_id: str, email: str, *, prefix: bool = False) -> Iterator[Member]:
    """Members whose (lower-cased) email is ``email``, or starts with it (the ``by_email`` index, consistent)."""
    condition = MemberModel.email.startswith(email) if prefix else MemberModel.email == email
    return (member_of(i) for i in MemberModel.by_email.query(org_id, condition, consistent_read=True))


def _as_last_read(read: Member) -> Condition:
    """As read, and not written since (every member write sets ``updated_at``): groups and profile included."""
    return _as_read(read) & (MemberModel.updated_at == read.updated_at)


def regroup_in(
    tx: Tx,
    read: Member,
    *,
    role: Role | None,
    seat: bool | None,
    group_ids: Collection[str] | None,
    at: datetime,
) -> TxItem:
    """One member's part of a group change, only while the member is as last read.

    ``role``: the new role (None: unchanged); ``seat``: given (True, with the
    seat email) or taken (False: the next ``seat_generation`` kills the
    member's tokens at once, invariant 4), None: unchanged; ``group_ids``:
    the member's SCIM groups now (None: unchanged; empty: none).
    """
    actions: list[Any] = [MemberModel.updated_at.set(at)]
    if role is not None:
        actions.append(MemberModel.role.set(role.value))
    if seat is True:
        actions += _seat_given(at, notify=True)
    elif seat is False:
        actions += _seat_taken()
    if group_ids is not None:
        actions.append(MemberModel.group_ids.set(set(group_ids)) if group_ids else MemberModel.group_ids.remove())
    return tx.update(MemberModel(read.org_id, read.account_id), actions, condition=_as_last_read(read))


def set_profile_in(
    tx: Tx, read: Member, *, profile: str | None, external_id: str | None, name: str | None, at: datetime
) -> TxItem:
    """The member's SCIM attributes (profile JSON, externalId; ``name``: the IdP's, None keeps it), as last read."""
    actions: list[Any] = [
        MemberModel.scim_profile.set(profile) if profile else MemberModel.scim_profile.remove(),
        MemberModel.external_id.set(external_id) if external_id else MemberModel.external_id.remove(),
        MemberModel.updated_at.set(at),
    ]
    if name:
        actions.append(MemberModel.name.set(name))
    return tx.update(MemberModel(read.org_id, read.account_id), actions, condition=_as_last_read(read))
