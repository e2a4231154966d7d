"""Real-shaped Members stream records, built from the item images actually stored."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from chalicelib.storage.base import client
from chalicelib.storage.members import MemberModel
from tests.support.stream_support import counts

_sequence = itertools.count(100_000_000_000_000_000_000)


def raw_member(org_id: str, account_id: str) -> dict[str, Any] | None:
    """The member item as DynamoDB returns it (attribute-value JSON), or None."""
    item = client().get_item(
        TableName=MemberModel.Meta.table_name,
        Key={"org_id": {"S": org_id}, "account_id": {"S": account_id}},
        ConsistentRead=True,
    )
    return item.get("Item")


def record(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """One stream record (NEW_AND_OLD_IMAGES) for a change from ``old`` to ``new``."""
    image = new or old
    assert image is not None
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": float(int(time.time())),
        "Keys": {"org_id": image["org_id"], "account_id": image["account_id"]},
        "SequenceNumber": str(next(_sequence)),
        "SizeBytes": 256,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        data["OldImage"] = old
    if new is not None:
        data["NewImage"] = new
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/members/stream/2026-01-01T00:00:00.000",
    }


def deliver(*records: dict[str, Any]) -> Any:
    """Run the Members stream handler's batch processing over a batch; what it did (counts)."""
    return counts("on_member_change", list(records))
