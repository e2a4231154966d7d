"""Seats: assign and revoke, one member or many (invariant 1).

Every assignment is one transaction: the member update (conditioned on the
member being as read), the org's ``seats_used`` change (conditioned on the
capacity), and the audit records. A single assign uses
``seats_used < seat_capacity``; a batch of n uses
``seat_capacity >= c AND seats_used <= c - n`` for the capacity c it read,
which implies ``seats_used + n <= capacity`` whatever happened since the
read. Revocation increments the member's ``seat_generation``, which kills
every token stamped with the old one (invariant 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from ..clock import now
from ..domain.errors import Conflict, Forbidden, NoSeat, NotFound, SeatAlreadyAssigned, SeatLimitReached
from ..domain.models import Actor, Member
from ..domain.outcomes import Outcome
from ..domain.roles import Permission
from ..domain.seats import assign_outcome, revoke_outcome, seats_to_take
from ..storage import members as member_rows
from ..storage import orgs as org_rows
from ..storage.base import Tx, lost_race, retry_races
from . import audit, members

# A bulk transaction holds the org update, the caller check and two items (member, audit) per member.
CHUNK = 49
BULK_ATTEMPTS = 3


@dataclass(frozen=True)
class BulkResult:
    account_id: str
    status: Outcome


def _applied(read: Member, seat: bool, stamp: datetime) -> Member:
    """The member as the committed assignment (``seat``) or revocation left it."""
    if seat:
        return replace(read, has_seat=True, seat_assigned_at=stamp, updated_at=stamp)
    return replace(
        read, has_seat=False, seat_generation=read.seat_generation + 1, seat_assigned_at=None, updated_at=stamp
    )


def assign(org_id: str, actor: Actor, account_id: str, notify: bool = True) -> Member:
    """Assign one seat: 402 seat_limit_reached when none is free, 409 when already held."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SEATS)

    def attempt() -> Member:
        item = members.get_item(org_id, account_id)
        if item is None:
            raise NotFound("No such member.")
        if item.has_seat:
            raise SeatAlreadyAssigned()
        stamp, tx = now(), Tx()
        # Changed since read: read again, whatever the org said.
        member_rows.assign_seat_in(tx, item, notify, stamp, on_fail=lost_race)
        org_rows.count_in(tx, org_id, seats=1, on_fail=SeatLimitReached)
        audit.record(tx, org_id, actor, "seat.assigned", account_id, {"email": item.email, "notify": notify})
        members.caller_still(tx, caller, Permission.MANAGE_SEATS)
        tx.commit()
        return _applied(item, True, stamp)

    return retry_races(attempt)


def revoke(org_id: str, actor: Actor, account_id: str) -> Member:
    """Revoke one seat, keep the membership: 404 no_seat when none is held."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SEATS)

    def attempt() -> Member:
        item = members.get_item(org_id, account_id)
        if item is None:
            raise NotFound("No such member.")
        if not item.has_seat:
            raise NoSeat()
        stamp, tx = now(), Tx()
        member_rows.revoke_seat_in(tx, item, stamp)
        org_rows.count_in(tx, org_id, seats=-1)
        audit.record(tx, org_id, actor, "seat.revoked", account_id, {"email": item.email})
        members.caller_still(tx, caller, Permission.MANAGE_SEATS)
        tx.commit()
        return _applied(item, False, stamp)

    return retry_races(attempt)


def _read_members(org_id: str, account_ids: list[str]) -> dict[str, Member]:
    """The chunk's members as they are now (one consistent BatchGetItem): what each one needs is decided on it."""
    return member_rows.many(org_id, account_ids)


def _bulk(
    org_id: str,
    account_ids: list[str],
    *,
    classify: Callable[[Member | None], Outcome | None],
    write_chunk: Callable[[list[Member]], dict[str, Outcome]],
    one: Callable[[str], Outcome],
    duplicate_status: dict[Outcome, Outcome],
) -> list[BulkResult]:
    """Shared shape of bulk assign/revoke: classify by a consistent read, write in chunks, in input order.

    ``classify`` gives the status of members that need no write (None: write
    it); ``write_chunk`` commits one transaction for a chunk and returns the
    status of each member in it. A chunk that loses a race is re-read and
    retried; after a few lost races each of its members goes through the
    single-member path, whose answer is exact. A repeated id gets
    ``duplicate_status`` of its first occurrence's outcome. Every chunk's
    transaction checks that the caller still manages seats: refused in the
    first chunk, the call is 403 and nothing changed; refused later, the
    chunks before stay and the remaining members answer ``forbidden``.
    """
    unique = list(dict.fromkeys(account_ids))
    outcome: dict[str, Outcome] = {}
    stopped = False
    for start in range(0, len(unique), CHUNK):
        pending = unique[start : start + CHUNK]
        if stopped:
            outcome.update(dict.fromkeys(pending, Outcome.FORBIDDEN))
            continue
        todo: list[Member] = []

        def attempt() -> None:
            nonlocal pending, todo
            current = _read_members(org_id, pending)
            todo = []
            for account_id in pending:
                status = classify(current.get(account_id))
                if status is None:
                    todo.append(current[account_id])
                else:
                    outcome[account_id] = status
            pending = [m.account_id for m in todo]  # what a lost race leaves to do
            outcome.update(write_chunk(todo))
            pending = []

        try:
            retry_races(attempt, attempts=BULK_ATTEMPTS)
        except Forbidden:
            # The caller lost the right midway: this chunk wrote nothing. With nothing
            # written before it, the whole call is refused; else the rest answer forbidden.
            if start == 0:
                raise
            stopped = True
            outcome.update(dict.fromkeys((m.account_id for m in todo), Outcome.FORBIDDEN))
            pending = []
        except Conflict:
            pass  # kept losing races: the single-member path below answers each exactly
        for account_id in pending:
            outcome[account_id] = one(account_id)
    results: list[BulkResult] = []
    seen: set[str] = set()
    for account_id in account_ids:
        status = outcome[account_id]
        if account_id in seen:
            status = duplicate_status.get(status, status)
        seen.add(account_id)
        results.append(BulkResult(account_id, status))
    return results


def assign_many(org_id: str, actor: Actor, account_ids: list[str], notify: bool = True) -> list[BulkResult]:
    """Assign in input order until the seats run out; the rest get ``seat_limit_reached``."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SEATS)

    def classify(item: Member | None) -> Outcome | None:
        return assign_outcome(None if item is None else bool(item.has_seat))

    def write_chunk(todo: list[Member]) -> dict[str, Outcome]:
        if not todo:
            return {}
        org = org_rows.get(org_id)
        if org is None:
            raise NotFound("No such organization.")
        capacity = org.seat_capacity
        taking = todo[: seats_to_take(capacity, org.seats_used, len(todo))]
        if taking:
            stamp, tx = now(), Tx()
            org_rows.count_in(tx, org_id, seats=len(taking), capacity=capacity)
            for item in taking:
                member_rows.assign_seat_in(tx, item, notify, stamp)
                audit.record(
                    tx, org_id, actor, "seat.assigned", item.account_id, {"email": item.email, "notify": notify}
                )
            members.caller_still(tx, caller, Permission.MANAGE_SEATS)
            tx.commit()
        return {
            item.account_id: Outcome.ASSIGNED if i < len(taking) else Outcome.SEAT_LIMIT_REACHED
            for i, item in enumerate(todo)
        }

    def one(account_id: str) -> Outcome:
        try:
            assign(org_id, actor, account_id, notify)
        except NotFound:
            return Outcome.NOT_MEMBER
        except SeatAlreadyAssigned:
            return Outcome.ALREADY_ASSIGNED
        except SeatLimitReached:
            return Outcome.SEAT_LIMIT_REACHED
        return Outcome.ASSIGNED

    return _bulk(
        org_id,
        account_ids,
        classify=classify,
        write_chunk=write_chunk,
        one=one,
        duplicate_status={Outcome.ASSIGNED: Outcome.ALREADY_ASSIGNED},
    )


def revoke_many(org_id: str, actor: Actor, account_ids: list[str]) -> list[BulkResult]:
    """Revoke each listed member's seat; members without one get ``no_seat``."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SEATS)

    def classify(item: Member | None) -> Outcome | None:
        return revoke_outcome(None if item is None else bool(item.has_seat))

    def write_chunk(todo: list[Member]) -> dict[str, Outcome]:
        if not todo:
            return {}
        stamp, tx = now(), Tx()
        org_rows.count_in(tx, org_id, seats=-len(todo))
        for item in todo:
            member_rows.revoke_seat_in(tx, item, stamp)
            audit.record(tx, org_id, actor, "seat.revoked", item.account_id, {"email": item.email})
        members.caller_still(tx, caller, Permission.MANAGE_SEATS)
        tx.commit()
        return {item.account_id: Outcome.REVOKED for item in todo}

    def one(account_id: str) -> Outcome:
        try:
            revoke(org_id, actor, account_id)
        except NotFound:
            return Outcome.NOT_MEMBER
        except NoSeat:
            return Outcome.NO_SEAT
        return Outcome.REVOKED

    return _bulk(
        org_id,
        account_ids,
        classify=classify,
        write_chunk=write_chunk,
        one=one,
        duplicate_status={Outcome.REVOKED: Outcome.NO_SEAT},
    )
