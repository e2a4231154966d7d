"""The expiry job: due pending invitations become expired (hourly, idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..clock import iso, now
from ..domain.invitations import EXPIRED, PENDING
from ..domain.models import Actor
from ..storage.base import Tx, TxItem
from ..storage.bulk import BulkOp, commit_ops
from ..storage.invitations import PENDING_SHARDS, InvitationModel
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
    at = iso(stamp)
    read = 0
    ops: list[BulkOp[InvitationModel]] = []
    for shard in range(PENDING_SHARDS):
        for item in InvitationModel.pending_by_expiry.query(f"p{shard}", InvitationModel.expires_at <= at):
            read += 1
            ops.append(_expire_op(item, actor, stamp))
    commit_ops(ops)
    return ExpiryRun(read=read, expired=sum(1 for op in ops if op.applied))


def _expire_op(item: InvitationModel, actor: Actor, stamp: datetime) -> BulkOp[InvitationModel]:
    condition = (
        (InvitationModel.status == PENDING)
        & (InvitationModel.link_nonce == (item.link_nonce or ""))
        & (InvitationModel.expires_at <= iso(stamp))
    )
    actions = [
        InvitationModel.status.set(EXPIRED),
        InvitationModel.pending_shard.remove(),
        InvitationModel.updated_at.set(stamp),
    ]
    target = InvitationModel(item.org_id, item.invitation_id)

    def add(tx: Tx) -> TxItem:
        write = tx.update(target, actions, condition=condition)
        audit.record(tx, item.org_id, actor, "invitation.expired", item.invitation_id, {"email": item.email})
        return write

    return BulkOp(key=(item.org_id, item.invitation_id), add=add, old_of=lambda _: None)
