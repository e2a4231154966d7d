"""Seat decisions of a bulk assign/revoke, on plain values (no AWS, no mock)."""

from chalicelib.domain.outcomes import Outcome
from chalicelib.domain.seats import assign_outcome, revoke_outcome, seats_to_take


def test_assign_skips_non_members_and_holders_and_writes_the_rest() -> None:
    assert assign_outcome(None) is Outcome.NOT_MEMBER
    assert assign_outcome(True) is Outcome.ALREADY_ASSIGNED
    assert assign_outcome(False) is None


def test_revoke_skips_non_members_and_seatless_and_writes_holders() -> None:
    assert revoke_outcome(None) is Outcome.NOT_MEMBER
    assert revoke_outcome(False) is Outcome.NO_SEAT
    assert revoke_outcome(True) is None


def test_seats_taken_are_the_free_ones_at_most() -> None:
    assert seats_to_take(capacity=10, used=7, wanted=5) == 3
    assert seats_to_take(capacity=10, used=2, wanted=5) == 5
    assert seats_to_take(capacity=10, used=10, wanted=1) == 0


def test_an_org_over_capacity_takes_none() -> None:
    # Capacity lowered below seats in use: no negative slice, nothing taken.
    assert seats_to_take(capacity=3, used=5, wanted=2) == 0
