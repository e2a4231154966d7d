"""The stream pump: what Lambda's DynamoDB event source mapping does, for the local stack.

It reads a table's stream with the real Streams API (DescribeStream,
GetShardIterator, GetRecords) over every shard, children only after their
parent shard is read to the end (so a key's changes stay in order across a
shard split), and invokes the app's handler with ``{"Records": [...]}`` in
the shape Lambda sends (``eventSourceARN`` included). A batch whose handler
raises is retried whole, with backoff, before anything after it on that
shard, as Lambda does; a handler that answers ``batchItemFailures`` (the
template's ``ReportBatchItemFailures``) has the batch checkpointed before the
lowest failed sequence number and the records from there retried. The
position per shard is saved after each delivered batch, so a restarted stack
resumes where it stopped instead of replaying.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .files import read_json, write_json

log = logging.getLogger("local.pump")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object handlers read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class ShardState:
    sequence: str | None = None  # last sequence number delivered
    done: bool = False  # closed and read to the end
    iterator: str | None = None
    pending: tuple[dict[str, Any], str | None] | None = None  # (event, next iterator) of a failed batch
    failures: int = 0
    retry_at: float = 0.0


def _json_safe(value: Any) -> Any:
    """Lambda events are JSON: binary attributes arrive base64-encoded, times as epoch seconds."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it to a function."""
    shaped = {k: v for k, v in record.items() if v is not None}
    shaped["eventSourceARN"] = stream_arn
    return dict(_json_safe(shaped))


def _first_failed(records: list[dict[str, Any]], result: Any) -> int | None:
    """Index of the lowest-numbered record a partial batch response reports failed, else None."""
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    failed = {str(f.get("itemIdentifier")) for f in failures or []}
    if not failed:
        return None
    indexes = [i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed]
    return min(indexes) if indexes else 0  # an identifier not in the batch: Lambda retries it whole


class StreamPump:
    """Delivers one table's stream to one handler."""

    def __init__(
        self,
        table: str,
        resolve_arn: Callable[[], str | None],
        handler: Handler,
        streams: Any,
        *,
        state_path: Path | None = None,
        function_name: str | None = None,
        batch_size: int = 100,
        max_backoff: float = 30.0,
    ) -> None:
        self.table = table
        self.resolve_arn = resolve_arn
        self.handler = handler
        self.streams = streams
        self.state_path = state_path
        self.function_name = function_name or f"local-{table}"
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self.stream_arn: str | None = None
        self.shards: dict[str, ShardState] = {}
        self.delivered_batches = 0

    # -- position ---------------------------------------------------------

    def _load_state(self, arn: str) -> None:
        saved = read_json(self.state_path) if self.state_path else None
        self.shards = {}
        if saved and saved.get("stream_arn") == arn:
            for shard_id, pos in (saved.get("shards") or {}).items():
                self.shards[shard_id] = ShardState(sequence=pos.get("sequence"), done=bool(pos.get("done")))

    def _save_state(self) -> None:
        if self.state_path is None or self.stream_arn is None:
            return
        shards = {sid: {"sequence": s.sequence, "done": s.done} for sid, s in self.shards.items()}
        write_json(self.state_path, {"stream_arn": self.stream_arn, "shards": shards})

    def _current_arn(self) -> str | None:
        if self.stream_arn is None:
            arn = self.resolve_arn()
            if arn:
                self.stream_arn = arn
                self._load_state(arn)
        return self.stream_arn

    # -- reading ----------------------------------------------------------

    def _describe(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        params: dict[str, Any] = {"StreamArn": arn}
        while True:
            desc = self.streams.describe_stream(**params)["StreamDescription"]
            shards.extend(desc.get("Shards", []))
            last = desc.get("LastEvaluatedShardId")
            if not last:
                return shards
            params["ExclusiveStartShardId"] = last

    def _iterator(self, arn: str, shard_id: str, state: ShardState) -> str | None:
        params: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
        if state.sequence:
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=state.sequence)
        try:
            return self.streams.get_shard_iterator(**params).get("ShardIterator")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TrimmedDataAccessException":
                raise
            log.warning(
                "%s: records after %s were trimmed; reading shard %s from its start",
                self.table,
                state.sequence,
                shard_id,
            )
            params = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
            return self.streams.get_shard_iterator(**params).get("ShardIterator")

    def poll_once(self) -> int:
        """Read every readable shard once and deliver what is there; returns records delivered."""
        arn = self._current_arn()
        if arn is None:
            return 0
        try:
            shards = self._describe(arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                log.warning("%s: stream %s is gone; looking the table's stream up again", self.table, arn)
                self.stream_arn = None
            raise
        listed = {s["ShardId"] for s in shards}
        delivered = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            state = self.shards.setdefault(shard_id, ShardState())
            parent = str(shard.get("ParentShardId") or "")
            parent_open = parent in listed and not self.shards.get(parent, ShardState()).done
            if state.done or parent_open:
                continue
            delivered += self._poll_shard(arn, shard_id, state)
        return delivered

    def _poll_shard(self, arn: str, shard_id: str, state: ShardState) -> int:
        if state.pending is not None:
            if time.monotonic() < state.retry_at:
                return 0
            event, next_iterator = state.pending
            return self._deliver(shard_id, state, event, next_iterator)
        if state.iterator is None:
            state.iterator = self._iterator(arn, shard_id, state)
            if state.iterator is None:
                return self._finish(shard_id, state)
        try:
            page = self.streams.get_records(ShardIterator=state.iterator, Limit=self.batch_size)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in (
                "ExpiredIteratorException",
                "TrimmedDataAccessException",
            ):
                raise
            # Iterators expire (15 minutes); DynamoDB Local also voids one taken on an empty shard
            # once records arrive. Ask again from the saved position.
            state.iterator = self._iterator(arn, shard_id, state)
            if state.iterator is None:
                return self._finish(shard_id, state)
            page = self.streams.get_records(ShardIterator=state.iterator, Limit=self.batch_size)
        records = page.get("Records", [])
        next_iterator = page.get("NextShardIterator")
        if not records:
            state.iterator = next_iterator
            return 0 if next_iterator else self._finish(shard_id, state)
        event = {"Records": [lambda_record(r, arn) for r in records]}
        return self._deliver(shard_id, state, event, next_iterator)

    def _finish(self, shard_id: str, state: ShardState) -> int:
        state.done = True
        state.iterator = None
        log.info("%s: shard %s closed and read to the end", self.table, shard_id)
        self._save_state()
        return 0

    def _deliver(self, shard_id: str, state: ShardState, event: dict[str, Any], next_iterator: str | None) -> int:
        records = event["Records"]
        try:
            result = self.handler(event, LambdaContext(self.function_name))
        except Exception as exc:
            delay = self._retry_later(state, event, next_iterator)
            log.error(
                "%s: batch of %d record(s) failed (attempt %d: %s: %s); retrying the same batch in %.1fs",
                self.table, len(records), state.failures, type(exc).__name__, exc, delay,
            )  # fmt: skip
            return 0
        retry_from = _first_failed(records, result)
        if retry_from is not None:
            done, rest = records[:retry_from], records[retry_from:]
            if done:
                state.sequence = done[-1]["dynamodb"]["SequenceNumber"]
                self._save_state()
            delay = self._retry_later(state, {**event, "Records": rest}, next_iterator)
            log.error(
                "%s: %d of %d record(s) reported failed (attempt %d); retrying from the first failed in %.1fs",
                self.table, len(rest), len(records), state.failures, delay,
            )  # fmt: skip
            return len(done)
        state.pending = None
        state.failures = 0
        state.sequence = records[-1]["dynamodb"]["SequenceNumber"]
        state.iterator = next_iterator
        self.delivered_batches += 1
        names = sorted({r["eventName"] for r in records})
        log.info(
            "%s: delivered batch of %d record(s) [%s] to %s -> %s",
            self.table, len(records), ",".join(names), self.function_name, result,
        )  # fmt: skip
        if next_iterator is None:
            self._finish(shard_id, state)
        else:
            self._save_state()
        return len(records)

    def _retry_later(self, state: ShardState, event: dict[str, Any], next_iterator: str | None) -> float:
        """Keep ``event`` to deliver again, with backoff; returns the delay."""
        state.pending = (event, next_iterator)
        state.failures += 1
        delay = min(self.max_backoff, 0.5 * 2 ** (state.failures - 1))
        state.retry_at = time.monotonic() + delay
        return delay

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Poll until ``stop`` is set; errors are logged and retried (the backend may be restarting)."""
        errors = 0
        while not stop.is_set():
            try:
                delivered = self.poll_once()
                errors = 0
            except Exception as exc:
                if stop.is_set():
                    return
                errors += 1
                if errors in (1, 10) or errors % 100 == 0:
                    log.warning("%s: reading the stream failed (%s: %s); retrying", self.table, type(exc).__name__, exc)
                delivered = 0
            if not delivered:
                stop.wait(interval if not errors else min(5.0, interval * errors))
