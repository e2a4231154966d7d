"""Group changes: the roles and seats a change of group membership leaves, applied all or nothing.

A group change (a SCIM PATCH or PUT of a group, a new or deleted group, a
mapping set or removed) is planned from consistent reads: for each member
it touches, the role and seat it leaves them with (``Change``). The plan is
checked against the org's counters before anything is written: when the
org cannot take it (more seats than are free, no account admin left) it is
refused whole and the error names the members concerned.

An accepted plan is written in transactions of up to ``ITEM_BUDGET`` items.
The first carries the org counters for the whole change under conditions
on the final counts (``seats_used <= capacity - seats gained``, ``admin_count
>= 1 + admins lost``), so a refusal is decided by the first transaction,
before any member is written: a refused change changes nothing. Most
changes fit in that one transaction (every change an IdP sends for one or a
few members). A larger one writes its remaining members in later
transactions, each conditioned on its members being as read; a chunk that
loses a race to another change of the same members is re-read and re-planned,
and only the difference from what the first transaction counted moves the
counters. Between the first and the last transaction of a large change the
counters already show its outcome (never more seats than capacity); at
rest they equal the members holding a seat and the admins. A later part
that fails for good (it kept losing races) gives back what the first
transaction counted for it and for every part after it, so the counters
still equal the members; the group keeps the members it was given, and
sending the change again completes it. When DynamoDB fails during a later
part, whether that part was written is unknown: only the parts after it
are given back, and the log line names the org and the counts in doubt.

Members are written freeing first (seats given back, promotions), then
the rest, so the members' own states never pass through "no admin".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import now
from ..domain.errors import Conflict, LastAdmin, NotFound, SeatLimitReached
from ..domain.models import Actor, Member, Organization
from ..domain.roles import Permission, Role
from ..storage import members as member_rows
from ..storage import orgs as org_rows
from ..storage.base import TransactionCancelled, Tx, retry_races
from . import audit, members

log = logging.getLogger(__name__)

# DynamoDB takes 100 items per transaction; the rest of the budget is the org
# update, the group's own items, the change's audit record and the caller check.
ITEM_BUDGET = 90
CHUNK_ATTEMPTS = 4
NAMED_AT_MOST = 10

RANK = {Role.MEMBER: 0, Role.BILLING_MANAGER: 1, Role.ACCOUNT_ADMIN: 2}


@dataclass(frozen=True)
class Grant:
    """What one group gives its members: a role, a seat, or both."""

    role: Role | None = None
    seat: bool = False


def resolve(role: Role, seat: bool, before: list[Grant], after: list[Grant]) -> tuple[Role, bool]:
    """The role and seat a member keeps when their groups' grants go from ``before`` to ``after``.

    While any group grants a role, the highest such role is the member's
    role; when the last role-granting group lets go of them, the role it gave
    goes too (back to member). A member in no role-granting group keeps the
    role set by hand. The seat follows the same rule: held while any
    seat-granting group contains them, revoked when the last one lets go.
    """
    roles = [g.role for g in after if g.role is not None]
    if roles:
        role = max(roles, key=lambda r: RANK[r])
    elif any(g.role is not None for g in before):
        role = Role.MEMBER
    if any(g.seat for g in after):
        seat = True
    elif any(g.seat for g in before):
        seat = False
    return role, seat


@dataclass
class Change:
    """One member's part of a group change: the role and seat wanted, and the group items to write."""

    item: Member
    role: Role
    seat: bool
    group_ids: set[str] | None = None  # the member's SCIM groups after the change; None: unchanged
    writes: list[Callable[[Tx], object]] = field(default_factory=list)  # membership items of this member

    @property
    def seat_delta(self) -> int:
        return int(self.seat) - int(self.item.has_seat)

    @property
    def admin_delta(self) -> int:
        return int(self.role is Role.ACCOUNT_ADMIN) - int(self.item.role is Role.ACCOUNT_ADMIN)

    @property
    def role_changed(self) -> bool:
        return self.role is not self.item.role

    @property
    def groups_changed(self) -> bool:
        return self.group_ids is not None and self.group_ids != self.item.group_ids

    @property
    def needed(self) -> bool:
        return self.role_changed or self.seat_delta != 0 or self.groups_changed or bool(self.writes)

    @property
    def size(self) -> int:
        """Items this change adds to a transaction: the member, its group items, its audit records."""
        return 1 + len(self.writes) + int(self.role_changed) + int(self.seat_delta != 0)


@dataclass
class Plan:
    """A whole group change: the member changes and the group's own writes.

    ``redo`` re-plans one member from a fresh read (for a later chunk that
    lost a race); ``head`` adds the group's own items (created, renamed,
    remapped, deleted) to the first transaction, whose conditions decide.
    """

    changes: list[Change]
    redo: Callable[[Member], Change]
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    head: Callable[[Tx], None] | None = None


def _names(changes: list[Change]) -> str:
    shown = ", ".join(c.item.email for c in changes[:NAMED_AT_MOST])
    more = len(changes) - NAMED_AT_MOST
    return shown + (f" and {more} more" if more > 0 else "")


def refuse_if_impossible(plan: Plan, org: Organization) -> None:
    """Refuse the whole change when the org cannot take it, naming the members it concerns."""
    gaining = [c for c in plan.changes if c.seat_delta > 0]
    seats = sum(c.seat_delta for c in plan.changes)
    free = org.seat_capacity - org.seats_used
    if seats > 0 and seats > free:
        raise SeatLimitReached(
            f"The organization is out of seats: this change would give a seat to {len(gaining)} member(s)"
            f" ({_names(gaining)}) and {max(free, 0)} seat(s) are free. Nothing was changed;"
            " free seats or raise the capacity, then retry."
        )
    admins = sum(c.admin_delta for c in plan.changes)
    if admins < 0 and org.admin_count + admins < 1:
        losing = [c for c in plan.changes if c.admin_delta < 0]
        raise LastAdmin(
            f"An organization keeps at least one account admin: this change would demote {_names(losing)}"
            " and leave none. Nothing was changed."
        )


def _add_member(tx: Tx, org_id: str, actor: Actor, change: Change, stamp: datetime) -> None:
    item = change.item
    member_rows.regroup_in(
        tx,
        item,
        role=change.role if change.role_changed else None,
        seat=(change.seat_delta > 0) if change.seat_delta else None,
        group_ids=change.group_ids if change.groups_changed else None,
        at=stamp,
    )
    for write in change.writes:
        write(tx)
    if change.role_changed:
        details = {"from": item.role.value, "to": change.role.value, "via": "group"}
        audit.record(tx, org_id, actor, "member.role_changed", item.account_id, details)
    if change.seat_delta > 0:
        audit.record(tx, org_id, actor, "seat.assigned", item.account_id, {"email": item.email, "notify": True})
    elif change.seat_delta < 0:
        audit.record(tx, org_id, actor, "seat.revoked", item.account_id, {"email": item.email})


def _org_update(tx: Tx, org_id: str, seats: int, admins: int, capacity: int) -> None:
    """The counters move by the change's totals; conditions on the totals decide refusal."""
    if seats or admins:
        org_rows.count_in(tx, org_id, seats=seats, admins=admins, capacity=capacity)


def _order(changes: list[Change]) -> list[Change]:
    """Freeing changes first (seats given back, promotions), consuming ones last."""
    return sorted(changes, key=lambda c: (c.seat_delta, -c.admin_delta))


def _chunks(changes: list[Change]) -> list[list[Change]]:
    chunks: list[list[Change]] = [[]]
    used = 0
    for change in changes:
        if chunks[-1] and used + change.size > ITEM_BUDGET:
            chunks.append([])
            used = 0
        chunks[-1].append(change)
        used += change.size
    return chunks


def _summary(chunk: list[Change]) -> dict[str, Any]:
    return {
        "members": len(chunk),
        "seats_assigned": [c.item.account_id for c in chunk if c.seat_delta > 0],
        "seats_revoked": [c.item.account_id for c in chunk if c.seat_delta < 0],
        "roles": {c.item.account_id: c.role.value for c in chunk if c.role_changed},
    }


def apply(org_id: str, actor: Actor, build: Callable[[], Plan], caller: Member | None = None) -> Plan:
    """Plan (``build``), refuse or write the change whole; returns the plan written.

    ``build`` reads and plans; a race lost by the first transaction runs it
    again on fresh state (nothing was written), so every refusal, If-Match
    and uniqueness answer comes from a fresh plan.
    """
    written: list[Plan] = []

    def first() -> list[list[Change]]:
        plan = build()
        org = org_rows.get(org_id)
        if org is None:
            raise NotFound("No such organization.")
        needed = [c for c in plan.changes if c.needed]
        plan.changes = needed
        written[:] = [plan]
        if not needed and plan.head is None:
            # Nothing to write; a caller who lost the power meanwhile still gets 403, not 204.
            check = Tx()
            members.caller_still(check, caller, Permission.MANAGE_ROLES)
            check.commit()
            return []
        refuse_if_impossible(plan, org)
        chunks = _chunks(_order(needed))
        stamp = now()
        tx = Tx()
        if plan.head is not None:
            plan.head(tx)
        seats = sum(c.seat_delta for c in needed)
        admins = sum(c.admin_delta for c in needed)
        _org_update(tx, org_id, seats, admins, org.seat_capacity)
        for change in chunks[0]:
            _add_member(tx, org_id, actor, change, stamp)
        details = {**plan.details, **_summary(chunks[0]), "part": 1, "parts": len(chunks)}
        audit.record(tx, org_id, actor, plan.action, plan.target, details)
        members.caller_still(tx, caller, Permission.MANAGE_ROLES)
        tx.commit()
        return chunks

    chunks = retry_races(first)
    plan = written[0]
    for number, chunk in enumerate(chunks[1:], start=2):
        try:
            _write_chunk(org_id, actor, plan, chunk, number, len(chunks), caller)
        except Conflict:  # this part was not written, nor any after it
            _give_back(org_id, [c for rest in chunks[number - 1 :] for c in rest])
            raise
        except Exception:
            log.warning(
                "group change interrupted",
                extra={"org_id": org_id, "part": number, "parts": len(chunks), **_counted(chunk)},
            )
            _give_back(org_id, [c for rest in chunks[number:] for c in rest])
            raise
    return plan


def _counted(changes: list[Change]) -> dict[str, int]:
    return {"seats": sum(c.seat_delta for c in changes), "admins": sum(c.admin_delta for c in changes)}


def _give_back(org_id: str, unwritten: list[Change]) -> None:
    """Take out of the counters what the first transaction counted for parts that were never written."""
    counted = _counted(unwritten)
    if not unwritten or not any(counted.values()):
        return

    def attempt() -> None:
        tx = Tx()
        _org_update(tx, org_id, -counted["seats"], -counted["admins"], 0)
        tx.commit()

    retry_races(attempt)


def _write_chunk(
    org_id: str, actor: Actor, plan: Plan, chunk: list[Change], number: int, parts: int, caller: Member | None
) -> None:
    """A later part of a large change; counted already, so only a re-planned difference moves the counters."""
    counted_seats = sum(c.seat_delta for c in chunk)
    counted_admins = sum(c.admin_delta for c in chunk)
    tries = 0

    def attempt() -> None:
        nonlocal chunk, tries
        tries += 1
        if tries > 1:  # re-plan on fresh reads after a lost race
            fresh = member_rows.many(org_id, (c.item.account_id for c in chunk))
            chunk = [plan.redo(fresh[c.item.account_id]) for c in chunk if c.item.account_id in fresh]
        seats = sum(c.seat_delta for c in chunk) - counted_seats
        admins = sum(c.admin_delta for c in chunk) - counted_admins
        tx = Tx()
        org = org_rows.get(org_id) if seats > 0 else None
        capacity = org.seat_capacity if org is not None else 0
        _org_update(tx, org_id, seats, admins, capacity)
        stamp = now()
        for change in chunk:
            if change.needed:
                _add_member(tx, org_id, actor, change, stamp)
        details = {**plan.details, **_summary(chunk), "part": number, "parts": parts}
        audit.record(tx, org_id, actor, plan.action, plan.target, details)
        members.caller_still(tx, caller, Permission.MANAGE_ROLES)
        tx.commit()

    try:
        retry_races(attempt, attempts=CHUNK_ATTEMPTS)
    except (TransactionCancelled, Conflict) as exc:
        raise Conflict(
            "Other changes of the same members kept interfering with this large group change;"
            " part of it was applied: read the group and send the change again."
        ) from exc
