"""Organizations table.

Keys: ``org_id`` (hash). Counters kept by conditional updates inside the same
transaction as the member change they count:
- ``seats_used`` <= ``seat_capacity`` (invariant 1),
- ``admin_count`` >= 1 (invariant 2),
- ``member_count``.

The org's own reads and changes (creation, rename, capacity) go through this
module's functions, which take and return ``domain.models.Organization``;
the member, seat and group services move the counters with ``count_in`` in
their own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ..domain.errors import NotFound
from ..domain.models import Organization
from .base import Failure, Tx, TxItem, register


@register
class OrgModel(Model):
    class Meta:
        base_name = "organizations"
        table_name = "organizations"

    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    seat_capacity = NumberAttribute(default=0)
    seats_used = NumberAttribute(default=0)
    admin_count = NumberAttribute(default=0)
    member_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)


def created_at(org_id: str) -> datetime:
    """When an org was created (one read of that attribute; 404 when there is no such org)."""
    try:
        return OrgModel.get(org_id, attributes_to_get=["created_at"]).created_at
    except DoesNotExist as exc:
        raise NotFound("No such organization.") from exc


def _org(item: OrgModel) -> Organization:
    return Organization(
        org_id=item.org_id,
        name=item.name,
        seat_capacity=int(item.seat_capacity or 0),
        seats_used=int(item.seats_used or 0),
        admin_count=int(item.admin_count or 0),
        member_count=int(item.member_count or 0),
        created_at=item.created_at,
    )


def get(org_id: str) -> Organization | None:
    """One org, read consistently (None: there is none)."""
    try:
        return _org(OrgModel.get(org_id, consistent_read=True))
    except DoesNotExist:
        return None


def name_of(org_id: str) -> str | None:
    """An org's display name (one read of that attribute); None when it is gone."""
    try:
        return str(OrgModel.get(org_id, attributes_to_get=["name"]).name)
    except DoesNotExist:
        return None


def names_of(org_ids: Iterable[str]) -> dict[str, str | None]:
    """Display names of several orgs in one BatchGetItem (per 100 orgs); None for an org that is gone."""
    wanted = list(dict.fromkeys(org_ids))
    names: dict[str, str | None] = dict.fromkeys(wanted)
    if wanted:
        for org in OrgModel.batch_get(wanted, attributes_to_get=["org_id", "name"]):
            names[org.org_id] = str(org.name)
    return names


def add_in(tx: Tx, org: Organization, created_by: str | None) -> TxItem:
    """Put a new org in the transaction (an org id is never reused); its counters as given."""
    item = OrgModel(
        org.org_id,
        name=org.name,
        seat_capacity=org.seat_capacity,
        seats_used=org.seats_used,
        admin_count=org.admin_count,
        member_count=org.member_count,
        created_at=org.created_at,
        updated_at=org.created_at,
        created_by=created_by,
    )
    return tx.put(item, condition=OrgModel.org_id.does_not_exist())


def rename_in(tx: Tx, org_id: str, old_name: str, name: str, at: datetime) -> TxItem:
    """Rename in the transaction, only while the name is still ``old_name`` (else a lost race)."""
    return tx.update(
        OrgModel(org_id),
        [OrgModel.name.set(name), OrgModel.updated_at.set(at)],
        OrgModel.org_id.exists() & (OrgModel.name == old_name),
    )


def set_capacity_in(tx: Tx, org_id: str, old_capacity: int, capacity: int, at: datetime, on_fail: Failure) -> TxItem:
    """Set the purchased seats in the transaction: never below the seats in use, only while still ``old_capacity``.

    ``on_fail`` tells the two apart (too low, or changed meanwhile).
    """
    return tx.update(
        OrgModel(org_id),
        [OrgModel.seat_capacity.set(capacity), OrgModel.updated_at.set(at)],
        condition=OrgModel.org_id.exists()
        & (OrgModel.seats_used <= capacity)
        & (OrgModel.seat_capacity == old_capacity),
        on_fail=on_fail,
    )


def count_in(
    tx: Tx,
    org_id: str,
    *,
    members: int = 0,
    admins: int = 0,
    seats: int = 0,
    capacity: int | None = None,
    on_fail: Failure | None = None,
) -> TxItem:
    """Move the org's counters by the given amounts in the transaction, only where the invariants allow.

    Seats taken (``seats > 0``) must fit: one seat under ``seats_used <
    seat_capacity``; many under ``seat_capacity >= capacity AND seats_used <=
    capacity - seats`` for the ``capacity`` read before, which implies they
    fit whatever happened since (invariant 1). Admins taken away
    (``admins < 0``) must leave one (invariant 2). Always: the org exists.
    ``on_fail``: what a failed condition means to the caller.
    """
    actions: list[Action] = []
    condition: Condition = OrgModel.org_id.exists()
    if members:
        actions.append(OrgModel.member_count.add(members))
    if admins:
        actions.append(OrgModel.admin_count.add(admins))
        if admins < 0:
            condition &= OrgModel.admin_count >= 1 - admins
    if seats:
        actions.append(OrgModel.seats_used.add(seats))
    if seats > 0:
        if capacity is None and seats == 1:
            condition &= OrgModel.seats_used < OrgModel.seat_capacity
        elif capacity is None:
            raise ValueError("taking several seats needs the capacity read before")
        else:
            condition &= (OrgModel.seat_capacity >= capacity) & (OrgModel.seats_used <= capacity - seats)
    return tx.update(OrgModel(org_id), actions, condition=condition, on_fail=on_fail)
