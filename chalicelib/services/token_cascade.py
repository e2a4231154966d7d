"""The revocation cascade: a revoked seat or a removed member ends every earlier token.

Verification already refuses those tokens from the moment the member item
changed (seat generation and membership are checked live); the cascade
marks them revoked with a reason so that listings show why, and cleanup
can rely on the flag. It writes the updated token items back with
BatchWriteItem (25 per request) after one query of the owner index, and
writes its audit record in the last batch: about ceil(n/25) + 1 requests
for n tokens. Replaying a record finds no active token and writes nothing
(invariant 6); tokens issued for a later seat or membership are left alone.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from ..clock import now
from ..domain.models import Actor
from ..storage.base import client
from ..storage.tokens import TokenModel, access_token_owner
from . import audit
from .member_records import MemberChange

log = logging.getLogger(__name__)

SEAT_REVOKED = "seat_revoked"
MEMBER_REMOVED = "member_removed"
BATCH = 25
MAX_BATCH_ATTEMPTS = 8
PARALLEL_BATCHES = 4


def _dead(token: TokenModel, joined_at: datetime, generation: int | None) -> bool:
    """Whether a token predates the seat (``generation``) or membership (``joined_at``) that ended."""
    if token.member_joined_at is None or token.member_joined_at < joined_at:
        return True
    if token.member_joined_at > joined_at:
        return False  # issued in a later membership
    return generation is None or int(token.seat_generation or 0) < generation


def _write_batch(chunk: list[tuple[str, dict[str, Any]]]) -> None:
    """One BatchWriteItem of puts; unprocessed items are retried with backoff."""
    request: dict[str, Any] = {}
    for table, item in chunk:
        request.setdefault(table, []).append({"PutRequest": {"Item": item}})
    for attempt in range(MAX_BATCH_ATTEMPTS):
        request = client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(min(0.05 * 2**attempt, 2.0))
    raise RuntimeError("DynamoDB left token revocations unprocessed; the record will be retried")


def _write_batches(items: list[tuple[str, dict[str, Any]]]) -> None:
    """Puts in batches of 25, a few batches in flight at once (wall time, not request count)."""
    chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    if len(chunks) == 1:
        _write_batch(chunks[0])
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL_BATCHES, len(chunks))) as pool:
        list(pool.map(_write_batch, chunks))


def revoke_tokens(
    change: MemberChange, reason: str, joined_at: datetime, generation: int | None, request_id: str
) -> int:
    """Mark the member's earlier active tokens revoked; return how many."""
    owner = access_token_owner(change.org_id, change.account_id)
    active = TokenModel.by_owner.query(owner, filter_condition=TokenModel.revoked_at.does_not_exist())
    stamp = now()
    items: list[tuple[str, dict[str, Any]]] = []
    revoked: list[str] = []
    for token in active:
        if token.kind != "access_token" or not _dead(token, joined_at, generation):
            continue
        token.revoked_at = stamp
        token.revoked_reason = reason
        items.append((TokenModel.Meta.table_name, token.serialize()))
        revoked.append(token.token_id)
    if not revoked:
        return 0
    actor = Actor.system("token_cascade", request_id)
    # Time and id from the record: a replay after a partial failure rewrites the same audit item.
    entry = audit.build(
        change.org_id,
        actor,
        "tokens.revoked",
        change.account_id,
        {"reason": reason, "count": len(revoked), "token_ids": revoked[:100]},
        at=change.at,
        audit_id=f"aud_{change.event_id}"[:64],
    )
    items.append((entry.Meta.table_name, entry.serialize()))
    _write_batches(items)
    log.info(
        "tokens revoked",
        extra={"org_id": change.org_id, "account_id": change.account_id, "count": len(revoked), "reason": reason},
    )
    return len(revoked)


def handle(change: MemberChange, request_id: str) -> int:
    """Run the cascade when this change revoked a seat or removed a member; return tokens revoked."""
    if change.event_name == "REMOVE" and change.old is not None:
        return revoke_tokens(change, MEMBER_REMOVED, change.old.joined_at, None, request_id)
    if change.event_name == "MODIFY" and change.seat_revoked and change.new is not None:
        generation = int(change.new.seat_generation or 0)
        return revoke_tokens(change, SEAT_REVOKED, change.new.joined_at, generation, request_id)
    return 0
