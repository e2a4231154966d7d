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
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from .base import register


def name_key(display_name: str) -> str:
    """Group names are unique per org without regard to case (Okta and Entra ID compare them so)."""
    return display_name.strip().casefold()


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
