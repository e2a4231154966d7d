"""Helpers for invitation tests: real-shaped stream events, the mail outbox, links."""

from __future__ import annotations

import re
import uuid
from typing import Any

from chalice.test import Client

from app import app
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.invitations import InvitationModel
from chalicelib.storage.schema import stream_arn
from tests.support.stream_support import counts

LINK = re.compile(r"/invitations/([A-Za-z0-9_.-]+)")


def record(item: InvitationModel, event_name: str = "MODIFY", old: InvitationModel | None = None) -> dict[str, Any]:
    """One DynamoDB stream record built from a real table item (NEW_AND_OLD_IMAGES)."""
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_700_000_000,
        "Keys": {"org_id": {"S": item.org_id}, "invitation_id": {"S": item.invitation_id}},
        "NewImage": item.serialize(),
        "SequenceNumber": str(uuid.uuid4().int)[:21],
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        data["OldImage"] = old.serialize()
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": stream_arn(InvitationModel)
        or "arn:aws:dynamodb:us-east-1:123456789012:table/invitations/stream/2026-01-01T00:00:00.000",
    }


def stream_batch(org_id: str) -> dict[str, Any]:
    """A stream event holding the current image of every invitation item of an org."""
    items = list(InvitationModel.query(org_id, consistent_read=True))
    return {"Records": [record(i) for i in items]}


def run_stream(event: dict[str, Any]) -> Any:
    """Run the Invitations stream handler's batch processing over an event; what it did (counts)."""
    return counts("on_invitation_change", event["Records"])


def run_expiry_job() -> Any:
    """Invoke the real scheduled handler with an EventBridge-shaped event."""
    client = Client(app)
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:rule/expire"]
    )
    return client.lambda_.invoke("expire_invitations", event).payload


def links_to(mailer: MemoryMailer, email: str) -> list[str]:
    """Every invitation link token mailed to an address, oldest first."""
    found = []
    for message in mailer.sent:
        if message.to == email:
            match = LINK.search(message.text)
            if match:
                found.append(match.group(1))
    return found
