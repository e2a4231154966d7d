"""Organizations table.

Keys: ``org_id`` (hash). Counters kept by conditional updates inside the same
transaction as the member change they count:
- ``seats_used`` <= ``seat_capacity`` (invariant 1),
- ``admin_count`` >= 1 (invariant 2),
- ``member_count``.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from ..domain.errors import NotFound
from .base import register


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
