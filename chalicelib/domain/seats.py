"""Seat decisions on plain values: what a bulk assign or revoke does with each member it read."""

from __future__ import annotations

from .outcomes import Outcome


def assign_outcome(has_seat: bool | None) -> Outcome | None:
    """A member's answer that needs no write (None: assign it); ``has_seat`` None: not a member."""
    if has_seat is None:
        return Outcome.NOT_MEMBER
    return Outcome.ALREADY_ASSIGNED if has_seat else None


def revoke_outcome(has_seat: bool | None) -> Outcome | None:
    """A member's answer that needs no write (None: revoke it); ``has_seat`` None: not a member."""
    if has_seat is None:
        return Outcome.NOT_MEMBER
    return None if has_seat else Outcome.NO_SEAT


def seats_to_take(capacity: int, used: int, wanted: int) -> int:
    """How many of ``wanted`` assignments (in input order) the free seats allow."""
    return min(max(capacity - used, 0), wanted)
