"""The seat effects SCIM needs, behind one small port.

SCIM turns ``active`` and "Seat Holders" membership into seat assignment and
revocation. Each call is one transaction: the member item (under
``members.unchanged``), the org's ``seats_used`` counter (under the capacity
condition on assign) and the audit record (invariants 1 and 7). Both are
idempotent: a member already in the wanted state is left alone.
"""

from __future__ import annotations

from ..clock import now
from ..domain.errors import NotFound
from ..domain.models import Actor
from ..services import audit, members
from ..storage.base import TransactionCancelled, Tx
from ..storage.members import MemberModel
from ..storage.orgs import OrgModel


def assign(org_id: str, actor: Actor, account_id: str) -> bool:
    """Give the member a seat; False when every seat is taken."""

    def attempt() -> bool:
        item = members.get_item(org_id, account_id)
        if item is None:
            raise NotFound("No such member.")
        if item.has_seat:
            return True
        stamp = now()
        tx = Tx()
        tx.update(
            item,
            [
                MemberModel.has_seat.set(True),
                MemberModel.seat_assigned_at.set(stamp),
                MemberModel.updated_at.set(stamp),
            ],
            condition=members.unchanged(item),
        )
        tx.update(
            OrgModel(org_id),
            [OrgModel.seats_used.add(1)],
            condition=OrgModel.org_id.exists() & (OrgModel.seats_used < OrgModel.seat_capacity),
        )
        audit.record(tx, org_id, actor, "seat.assigned", account_id, {"email": item.email})
        try:
            tx.commit()
        except TransactionCancelled as exc:
            if exc.failed_indexes() == [1]:
                return False
            raise
        return True

    return members.retrying(attempt)


def revoke(org_id: str, actor: Actor, account_id: str) -> None:
    """Take the member's seat back and bump its seat generation (earlier tokens stay dead)."""

    def attempt() -> None:
        item = members.get_item(org_id, account_id)
        if item is None:
            raise NotFound("No such member.")
        if not item.has_seat:
            return
        tx = Tx()
        tx.update(
            item,
            [
                MemberModel.has_seat.set(False),
                MemberModel.seat_assigned_at.remove(),
                MemberModel.seat_generation.add(1),
                MemberModel.updated_at.set(now()),
            ],
            condition=members.unchanged(item),
        )
        tx.update(OrgModel(org_id), [OrgModel.seats_used.add(-1)], condition=OrgModel.seats_used > 0)
        audit.record(tx, org_id, actor, "seat.revoked", account_id, {"email": item.email})
        tx.commit()

    members.retrying(attempt)
