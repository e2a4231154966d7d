"""SCIM groups an identity provider pushes, their names and their members.

Tables:
- ``groups``: ``org_id`` (hash), ``group_id`` (range). ``display_name`` as
  pushed, ``external_id``, the mapping to access (``role``, ``seat``) and
  ``revision``, raised by every change (the group's ETag and the condition
  that serializes changes of one group).
- ``group_names``: ``org_id`` (hash), ``name_key`` (range: the display name
  case-folded) -> ``group_id``. Put under ``attribute_not_exists`` in the
  same transaction as a create or rename, so a name is unique per org
  (case-insensitive) also under concurrent pushes.
- ``group_members``: ``group_key`` = ``<org_id>#<group_id>`` (hash),
  ``account_id`` (range): one item per (group, member), so a group's members
  are one Query however large it is.

"Which groups is this member in" is the member item's ``group_ids`` set
(storage/members.py), written in the same transaction as these items. It is
read consistently and conditioned on, which an index (eventually
consistent) could not be: two changes of one member's groups cannot both
commit on the same read.

This module is the tables' repository: services read and write groups only
through its functions, which take and return ``domain.groups.StoredGroup``.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from ..domain.groups import StoredGroup, name_key
from ..domain.roles import Role
from .base import Tx, key_fits, register

__all__ = ["GroupMemberModel", "GroupModel", "GroupNameModel", "group_key", "name_key"]


def group_key(org_id: str, group_id: str) -> str:
    return f"{org_id}#{group_id}"


@register
class GroupModel(Model):
    class Meta:
        base_name = "groups"
        table_name = "groups"

    org_id = UnicodeAttribute(hash_key=True)
    group_id = UnicodeAttribute(range_key=True)
    display_name = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)  # the role the group grants, if mapped
    seat = BooleanAttribute(null=True)  # whether the group grants a seat
    revision = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


@register
class GroupNameModel(Model):
    class Meta:
        base_name = "group_names"
        table_name = "group_names"

    org_id = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)
    group_id = UnicodeAttribute()


@register
class GroupMemberModel(Model):
    class Meta:
        base_name = "group_members"
        table_name = "group_members"

    group_key = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(range_key=True)
    added_at = UTCDateTimeAttribute()


# --- reading ---------------------------------------------------------------------


def _group(item: GroupModel) -> StoredGroup:
    return StoredGroup(
        org_id=item.org_id,
        group_id=item.group_id,
        display_name=item.display_name,
        external_id=item.external_id,
        role=Role(item.role) if item.role else None,
        seat=bool(item.seat),
        revision=int(item.revision or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get(org_id: str, group_id: str) -> StoredGroup | None:
    """One group (a consistent read), or None."""
    if not key_fits(org_id, group_id):
        return None
    try:
        return _group(GroupModel.get(org_id, group_id, consistent_read=True))
    except DoesNotExist:
        return None


def many(org_id: str, group_ids: list[str]) -> list[StoredGroup]:
    """The groups of these ids that still exist, in the order given (consistent BatchGetItem, 100 keys a call)."""
    keys = [(org_id, g) for g in group_ids if key_fits(org_id, g)]
    found = {g.group_id: g for g in GroupModel.batch_get(keys, consistent_read=True)} if keys else {}
    return [_group(found[g]) for g in group_ids if g in found]


def of_org(org_id: str) -> list[StoredGroup]:
    """Every pushed group of the org (one consistent Query)."""
    return [_group(g) for g in GroupModel.query(org_id, consistent_read=True)] if key_fits(org_id) else []


def named(org_id: str, display_name: str) -> StoredGroup | None:
    """The org's group of this name (case-insensitive: its name claim, then the group), or None."""
    key = name_key(display_name)
    if not key or not key_fits(org_id, key):
        return None
    try:
        claim = GroupNameModel.get(org_id, key, consistent_read=True)
    except DoesNotExist:
        return None
    return get(org_id, claim.group_id)


def member_ids(org_id: str, group_id: str) -> list[str]:
    """The account ids of the group's membership items, in key order (one consistent Query).

    An item may outlive a member removed from the org: the member item's
    ``group_ids`` says whether it still counts.
    """
    return [m.account_id for m in GroupMemberModel.query(group_key(org_id, group_id), consistent_read=True)]


# --- writing, inside a group change's first transaction ------------------------------------


def save_in(tx: Tx, read: StoredGroup | None, wanted: StoredGroup) -> None:
    """Create the group (``read`` None) or replace it, only while it is the revision read.

    A new or changed name is claimed under ``attribute_not_exists`` (one group
    per name per org, also under concurrent pushes); an old name is let go.
    """
    new_key, old_key = name_key(wanted.display_name), name_key(read.display_name) if read is not None else None
    if new_key != old_key:
        claim = GroupNameModel(wanted.org_id, new_key, group_id=wanted.group_id)
        tx.put(claim, condition=GroupNameModel.name_key.does_not_exist())
        if old_key is not None:
            tx.delete(GroupNameModel(wanted.org_id, old_key), condition=GroupNameModel.group_id == wanted.group_id)
    item = GroupModel(
        wanted.org_id,
        wanted.group_id,
        display_name=wanted.display_name,
        external_id=wanted.external_id,
        role=wanted.role.value if wanted.role else None,
        seat=True if wanted.seat else None,
        revision=wanted.revision,
        created_at=wanted.created_at,
        updated_at=wanted.updated_at,
    )
    if read is None:
        tx.put(item, condition=GroupModel.group_id.does_not_exist())
    else:
        tx.put(item, condition=GroupModel.revision == read.revision)


def delete_in(tx: Tx, read: StoredGroup) -> None:
    """Delete the group and its name claim, only while it is the revision read."""
    tx.delete(GroupModel(read.org_id, read.group_id), condition=GroupModel.revision == read.revision)
    tx.delete(GroupNameModel(read.org_id, name_key(read.display_name)))


def join_in(tx: Tx, org_id: str, group_id: str, account_id: str, at: datetime) -> None:
    """The member's membership item of the group."""
    tx.put(GroupMemberModel(group_key(org_id, group_id), account_id, added_at=at))


def leave_in(tx: Tx, org_id: str, group_id: str, account_id: str) -> None:
    """Delete the member's membership item of the group."""
    tx.delete(GroupMemberModel(group_key(org_id, group_id), account_id))
