"""Members stream records decoded into old/new member items.

The records come in the DynamoDB stream shape (``eventName``,
``dynamodb.Keys/OldImage/NewImage``, NEW_AND_OLD_IMAGES); images are
decoded with the table's own pynamodb model, so the services compare typed
attributes, not raw attribute values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..clock import now
from ..storage.members import MemberModel


@dataclass(frozen=True)
class MemberChange:
    event_id: str
    event_name: str  # INSERT | MODIFY | REMOVE
    org_id: str
    account_id: str
    at: datetime
    old: MemberModel | None
    new: MemberModel | None

    @property
    def seat_revoked(self) -> bool:
        return self.old is not None and bool(self.old.has_seat) and self.new is not None and not self.new.has_seat

    @property
    def seat_assigned(self) -> bool:
        """A seat appeared: MODIFY false -> true, or a member inserted with a seat."""
        return self.new is not None and bool(self.new.has_seat) and not (self.old is not None and self.old.has_seat)


def _image(data: dict[str, Any], name: str) -> MemberModel | None:
    image = data.get(name)
    return MemberModel.from_raw_data(image) if image else None


def _created(data: dict[str, Any]) -> datetime:
    value = data.get("ApproximateCreationDateTime")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    return now()


def decode(record: dict[str, Any]) -> MemberChange:
    data = record.get("dynamodb") or {}
    keys = data.get("Keys") or {}
    return MemberChange(
        event_id=str(record.get("eventID") or data.get("SequenceNumber") or ""),
        event_name=str(record.get("eventName") or ""),
        org_id=str(keys.get("org_id", {}).get("S", "")),
        account_id=str(keys.get("account_id", {}).get("S", "")),
        at=_created(data),
        old=_image(data, "OldImage"),
        new=_image(data, "NewImage"),
    )
