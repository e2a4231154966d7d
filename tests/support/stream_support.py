"""Running the stream handlers over real-shaped batches: Lambda's answer, or the batch's counts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalice.app import DynamoDBEvent

from app import app
from chalicelib.events import batch
from chalicelib.services import stream_changes

RECORD_HANDLERS: dict[str, Callable[..., Mapping[str, int]]] = {
    "on_member_change": stream_changes.member_record,
    "on_invitation_change": stream_changes.invitation_record,
    "on_session_change": stream_changes.session_record,
}


@dataclass
class Context:
    """The part of Lambda's context the handlers read."""

    aws_request_id: str = field(default_factory=lambda: f"req-{uuid.uuid4()}")


def invoke(function_name: str, records: list[dict[str, Any]], request_id: str | None = None) -> dict[str, Any]:
    """Invoke the deployed stream handler with a batch, as Lambda would; its answer (batchItemFailures)."""
    context = Context(request_id) if request_id else Context()
    return dict(app.handler_map[function_name]({"Records": records}, context))


def failed(response: dict[str, Any]) -> list[str]:
    """The sequence numbers a handler's answer asks Lambda to retry."""
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def counts(function_name: str, records: list[dict[str, Any]], request_id: str | None = None) -> dict[str, Any]:
    """What the handler's batch did (records, emails sent, tokens revoked, ...), plus ``failed``.

    The same batch processor and record handlers as the deployed function, which answers Lambda only
    with the failures and logs these counts.
    """
    event = DynamoDBEvent({"Records": records}, Context(request_id) if request_id else Context())
    outcome = batch.process(event, RECORD_HANDLERS[function_name], function_name)
    result: dict[str, Any] = dict(outcome.counts)
    if outcome.failed:
        result["failed_records"] = outcome.failed
    return result
