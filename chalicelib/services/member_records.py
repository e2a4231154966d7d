"""Members stream records decoded into old/new member images.

The records are Chalice's typed stream records (NEW_AND_OLD_IMAGES); images
are decoded by the Members table's module (``storage.members.image_of``)
into ``domain.models.MemberImage``, so the services compare typed values,
not raw attribute values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..domain.models import MemberImage
from ..storage.members import image_of

if TYPE_CHECKING:
    from chalice.app import DynamoDBRecord


@dataclass(frozen=True)
class MemberChange:
    event_id: str
    event_name: str  # INSERT | MODIFY | REMOVE
    org_id: str
    account_id: str
    at: datetime
    old: MemberImage | None
    new: MemberImage | None

    @property
    def seat_revoked(self) -> bool:
        return self.old is not None and self.old.has_seat and self.new is not None and not self.new.has_seat

    @property
    def seat_assigned(self) -> bool:
        """A seat appeared: MODIFY false -> true, or a member inserted with a seat."""
        return self.new is not None and self.new.has_seat and not (self.old is not None and self.old.has_seat)


def _image(image: dict[str, Any] | None) -> MemberImage | None:
    return image_of(image) if image else None


def decode(record: DynamoDBRecord) -> MemberChange:
    keys = record.keys or {}
    return MemberChange(
        event_id=record.event_id,
        event_name=record.event_name,
        org_id=str(keys.get("org_id", {}).get("S", "")),
        account_id=str(keys.get("account_id", {}).get("S", "")),
        at=record.timestamp.replace(tzinfo=UTC),  # Chalice gives naive UTC
        old=_image(record.old_image),
        new=_image(record.new_image),
    )
