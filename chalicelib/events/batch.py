"""Partial batch responses for the stream handlers: one record's failure is that record's alone.

Each record is handled on its own; a record whose handler raises is
reported in ``batchItemFailures`` by its sequence number, and the others
count as done. With ``ReportBatchItemFailures`` on the event source mapping
(``deploy/build_template.py``), Lambda checkpoints before the lowest failed
sequence number and delivers again from there, so the records after a
failure may run twice: every record handler is idempotent (invariant 6).
Chalice (1.34) hands a handler's return value to Lambda as it is, but its
``on_dynamodb_record`` has no ``FunctionResponseTypes`` option: the template
writes each event source mapping itself and sets it there.

This is the part of Powertools' batch processor these handlers need, kept
here because the stream functions share ``app.py`` (and so its imports) with
the API: importing Powertools' batch utility added 220-450 ms to the import
of the app on the bench machine (bench/README.md, "Powertools on the cold
path"). Log fields (request id, org id, sequence number) go through the
standard logger's ``extra``, which Lambda's JSON log format prints as keys.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalice.app import DynamoDBEvent, DynamoDBRecord

log = logging.getLogger(__name__)

# What one record's handler did, as counts ("sent": 1, "tokens_revoked": 3, ...).
RecordHandler = Callable[[DynamoDBRecord, str], Mapping[str, int]]


@dataclass
class BatchOutcome:
    """Counts over the batch's records, and the sequence numbers of the records that failed."""

    counts: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        """The handler's answer to Lambda (the partial batch response shape)."""
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in self.failed]}


def request_id_of(event: DynamoDBEvent) -> str:
    """The invocation's request id (Lambda context), carried into audit records and log lines."""
    return str(getattr(event.context, "aws_request_id", None) or "stream-unknown")


def process(event: DynamoDBEvent, handle: RecordHandler, stream: str) -> BatchOutcome:
    """Run ``handle`` on every record of the batch, in order; a failing record does not stop the others."""
    request_id = request_id_of(event)
    outcome = BatchOutcome(Counter(records=0))
    for raw in event.to_dict().get("Records") or []:
        outcome.counts["records"] += 1
        data = raw.get("dynamodb") or {}
        sequence = str(data.get("SequenceNumber") or "")
        try:
            # Typed here, not by iterating the event, so that a record Chalice cannot read fails alone.
            counted = handle(DynamoDBRecord(raw, event.context), request_id)
            outcome.counts.update({str(key): n for key, n in counted.items()})  # enum keys as their words
        except Exception:
            if not sequence:
                raise  # nothing to name it by: Lambda retries the batch
            outcome.failed.append(sequence)
            org_id = ((data.get("Keys") or {}).get("org_id") or {}).get("S")
            log.exception(
                "stream record failed; reported for retry",
                extra={"stream": stream, "request_id": request_id, "org_id": org_id, "sequence_number": sequence},
            )
    log.info(
        "stream batch handled",
        extra={
            "stream": stream,
            "request_id": request_id,
            "counts": dict(outcome.counts),
            "failed": len(outcome.failed),
        },
    )
    return outcome
