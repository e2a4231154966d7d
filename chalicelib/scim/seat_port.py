"""The seat effects SCIM needs, in SCIM's terms, on top of the seats service.

SCIM turns ``active`` and "Seat Holders" membership into seat assignment and
revocation. Provisioning is declarative ("this user is active"), so both
calls are idempotent: a member already in the wanted state is left alone,
and a full org is an answer (False), not an error. The seats service keeps
the counter, the seat generation and the audit record (invariants 1, 4, 7).
"""

from __future__ import annotations

from ..domain.errors import NoSeat, SeatAlreadyAssigned, SeatLimitReached
from ..domain.models import Actor
from ..services import seats


def assign(org_id: str, actor: Actor, account_id: str) -> bool:
    """Give the member a seat (and the seat email); False when every seat is taken."""
    try:
        seats.assign(org_id, actor, account_id, notify=True)
    except SeatAlreadyAssigned:
        return True
    except SeatLimitReached:
        return False
    return True


def revoke(org_id: str, actor: Actor, account_id: str) -> None:
    """Take the member's seat back (earlier tokens stay dead); nothing to do without one."""
    try:
        seats.revoke(org_id, actor, account_id)
    except NoSeat:
        return
