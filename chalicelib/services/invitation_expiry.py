"""The expiry job: due pending invitations become expired (hourly, idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..clock import now
from ..domain.models import Actor
from ..storage.base import Tx, TxItem
from ..storage.bulk import BulkOp, commit_ops
from ..storage.invitations import DueInvitation, due_pending, expire_in
from . import audit


@dataclass(frozen=True)
class ExpiryRun:
    read: int
    expired: int


def expire_due(request_id: str) -> ExpiryRun:
    """Mark due pending invitations expired, reading only due items (sparse GSI, one query per shard).

    Each update is conditioned on the item still being the pending issue we
    read, so a reissue in between wins, and a second run changes nothing.
    """
    actor = Actor.system("expire_invitations", request_id)
    stamp = now()
    ops = [_expire_op(due, actor, stamp) for due in due_pending(stamp)]
    commit_ops(ops)
    return ExpiryRun(read=len(ops), expired=sum(1 for op in ops if op.applied))


def _expire_op(due: DueInvitation, actor: Actor, stamp: datetime) -> BulkOp[None]:
    def add(tx: Tx) -> TxItem:
        write = expire_in(tx, due, stamp)
        audit.record(tx, due.org_id, actor, "invitation.expired", due.invitation_id, {"email": due.email})
        return write

    return BulkOp(key=(due.org_id, due.invitation_id), add=add, old_of=lambda _: None)
