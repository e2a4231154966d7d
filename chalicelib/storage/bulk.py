"""Conditional bulk writes: many independent conditioned writes, a few transactions, no prior reads.

Each op is one conditioned write (plus items that ride with it, e.g. its
audit record). Ops go into transactions of ``OPS_PER_TX``; when one is
cancelled, the ops whose own condition failed are dropped (with the item
that failed it, from the reason's old image) and the rest of the chunk is
committed again, so a call over 1,000 items costs about 1,000 / ``OPS_PER_TX``
requests whatever already exists. Chunks touch disjoint items and run in
parallel (``PARALLEL_TX``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..domain.errors import Forbidden
from .base import CancelReason, TransactionCancelled, Tx, TxItem, any_cancellation, client, connection, retry_races

# Each op is a write + its audit record. 40 ops (80 items) per transaction:
# 25 transactions for 1,000 invitations, and DynamoDB Local's transaction cost grows
# faster than linearly with size, so full 100-item transactions were slower overall.
OPS_PER_TX = 40
CONFLICT_RETRIES = 6
PARALLEL_TX = 4  # transactions of one bulk call in flight at once

T = TypeVar("T")


@dataclass
class BulkOp(Generic[T]):
    """One conditional write (plus what rides with it) in a bulk call.

    ``add`` puts exactly the op's items into a transaction and returns the
    handle of its conditioned write; when that condition fails, ``old_of``
    turns the reason into the item that failed it (``old``; None when the op
    was applied). ``forbidden``: the caller's check refused its chunk.
    """

    key: tuple[str, str]
    add: Callable[[Tx], TxItem]
    old_of: Callable[[CancelReason], T | None]
    applied: bool = False
    failed: bool = False
    old: T | None = None
    forbidden: bool = False


Guard = Callable[[Tx], None]


class ExtraRefused(Exception):
    """The items added after the ops (``extra``) failed their condition (``reasons``: one per extra item)."""

    def __init__(self, reasons: list[CancelReason | None]) -> None:
        super().__init__("extra refused")
        self.reasons = reasons


def commit_ops(ops: Sequence[BulkOp[Any]], guard: Guard | None = None) -> None:
    """Run ops in transactions of ``OPS_PER_TX``, the chunks in parallel (they touch disjoint items).

    ``guard`` adds the caller's check to every chunk's transaction; a chunk it
    refuses writes nothing and marks its ops ``forbidden``.
    """
    chunks = [list(ops[i : i + OPS_PER_TX]) for i in range(0, len(ops), OPS_PER_TX)]

    def commit(chunk: list[BulkOp[Any]]) -> None:
        commit_chunk(chunk, guard=guard)

    if len(chunks) <= 1:
        for chunk in chunks:
            commit(chunk)
        return
    connection().client  # noqa: B018  (create the shared client before the threads use it)
    with ThreadPoolExecutor(max_workers=min(PARALLEL_TX, len(chunks))) as pool:
        list(pool.map(commit, chunks))


def commit_chunk(
    chunk: Sequence[BulkOp[Any]], extra: Callable[[Tx], list[TxItem]] | None = None, guard: Guard | None = None
) -> bool:
    """One transaction for the chunk; ops whose condition fails are dropped and the rest retried.

    ``extra`` adds items after the ops (a quota charge); when one of them fails
    its condition, ``ExtraRefused`` is raised. True when a commit carried ``extra``.
    ``guard`` (the caller's check) goes last; when it fails the chunk's ops are
    marked ``forbidden`` and nothing is written.
    """

    def attempt() -> bool:
        pending = [op for op in chunk if not op.failed]
        while pending:
            tx = Tx()
            writes = [op.add(tx) for op in pending]
            extras = extra(tx) if extra is not None else []
            if guard is not None:
                guard(tx)
            try:
                tx.commit()
            except Forbidden:
                for op in pending:
                    op.forbidden = True
                return False
            except TransactionCancelled as exc:
                if any(exc.failed(h) for h in extras):
                    raise ExtraRefused([exc.reason_for(h) for h in extras]) from exc
                dropped = 0
                for op, write in zip(pending, writes, strict=True):
                    reason = exc.reason_for(write)
                    if reason is not None and reason.code == "ConditionalCheckFailed":
                        op.failed = True
                        op.old = op.old_of(reason)
                        dropped += 1
                if not dropped:
                    raise  # another transaction touched the same items (TransactionConflict)
                pending = [op for op in pending if not op.failed]
                continue
            for op in pending:
                op.applied = True
            return extra is not None
        return False

    # Dropping failed ops is progress; only a cancellation that dropped none is a lost race (backed off).
    return retry_races(attempt, attempts=CONFLICT_RETRIES + 1, races=any_cancellation)


BATCH_PUTS = 25  # BatchWriteItem's limit
BATCH_ATTEMPTS = 8
PARALLEL_BATCHES = 4


def _put_batch(chunk: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """One BatchWriteItem of puts; unprocessed items are retried with backoff."""
    request: dict[str, Any] = {}
    for table, item in chunk:
        request.setdefault(table, []).append({"PutRequest": {"Item": item}})
    for attempt in range(BATCH_ATTEMPTS):
        request = client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(min(0.05 * 2**attempt, 2.0))
    raise RuntimeError("DynamoDB left items of a batch write unprocessed; the caller's record will be retried")


def put_rows(rows: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Unconditional puts of (table, serialized item) in batches of 25, a few batches in flight at once.

    For idempotent rewrites (a cascade's replay writes the same items), where
    a transaction's conditions are not needed and its cost is.
    """
    chunks = [rows[i : i + BATCH_PUTS] for i in range(0, len(rows), BATCH_PUTS)]
    if len(chunks) == 1:
        _put_batch(chunks[0])
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL_BATCHES, len(chunks))) as pool:
        list(pool.map(_put_batch, chunks))
