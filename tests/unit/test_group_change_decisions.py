"""Group changes on plain records: what a member's groups give them, what one member's change moves in the
org's counters, and which whole changes are refused before anything is written (no AWS, no mock)."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import LastAdmin, SeatLimitReached
from chalicelib.domain.models import Member, Organization
from chalicelib.domain.roles import Role
from chalicelib.services.group_access import Change, Grant, Plan, refuse_if_impossible, resolve

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEMBER = Member(
    org_id="org_1",
    account_id="acc_1",
    email="a@example.com",
    role=Role.MEMBER,
    has_seat=False,
    seat_generation=0,
    joined_at=T0,
    updated_at=T0,
    group_ids=frozenset({"grp_a"}),
)
ORG = Organization(
    org_id="org_1",
    name="Org",
    seat_capacity=3,
    seats_used=2,
    admin_count=1,
    member_count=5,
    created_at=T0,
)


def test_the_highest_role_any_group_grants_wins_and_goes_with_the_last_such_group() -> None:
    admins, billing, seats = Grant(Role.ACCOUNT_ADMIN), Grant(Role.BILLING_MANAGER), Grant(seat=True)
    assert resolve(Role.MEMBER, False, [], [billing, admins]) == (Role.ACCOUNT_ADMIN, False)
    assert resolve(Role.ACCOUNT_ADMIN, False, [admins, billing], [billing]) == (Role.BILLING_MANAGER, False)
    assert resolve(Role.BILLING_MANAGER, False, [billing], []) == (Role.MEMBER, False)
    assert resolve(Role.BILLING_MANAGER, True, [seats], [seats]) == (Role.BILLING_MANAGER, True)  # set by hand
    assert resolve(Role.MEMBER, True, [seats], []) == (Role.MEMBER, False)


def test_a_change_counts_what_it_moves_from_the_member_as_read() -> None:
    promoted = Change(MEMBER, Role.ACCOUNT_ADMIN, seat=True)
    assert (promoted.seat_delta, promoted.admin_delta, promoted.role_changed) == (1, 1, True)
    assert promoted.size == 3  # the member, a role and a seat audit record
    admin = replace(MEMBER, role=Role.ACCOUNT_ADMIN, has_seat=True)
    demoted = Change(admin, Role.MEMBER, seat=False)
    assert (demoted.seat_delta, demoted.admin_delta) == (-1, -1)
    same = Change(MEMBER, Role.MEMBER, seat=False, group_ids={"grp_a"})
    assert not same.groups_changed and not same.needed  # nothing written for it
    moved = Change(MEMBER, Role.MEMBER, seat=False, group_ids={"grp_a", "grp_b"})
    assert moved.groups_changed and moved.needed


def plan(*changes: Change) -> Plan:
    return Plan(changes=list(changes), redo=lambda m: Change(m, m.role, m.has_seat), action="a", target="t")


def test_a_change_that_needs_more_seats_than_are_free_is_refused_naming_who_would_get_them() -> None:
    others = [replace(MEMBER, account_id=f"acc_{i}", email=f"p{i}@example.com") for i in range(2)]
    refuse_if_impossible(plan(Change(others[0], Role.MEMBER, seat=True)), ORG)  # one seat is free
    with pytest.raises(SeatLimitReached) as refused:
        refuse_if_impossible(plan(*(Change(m, Role.MEMBER, seat=True) for m in others)), ORG)
    assert "p0@example.com, p1@example.com" in str(refused.value) and "1 seat(s) are free" in str(refused.value)
    # Seats given back in the same change make room.
    seated = replace(MEMBER, account_id="acc_9", has_seat=True)
    giving = [Change(seated, Role.MEMBER, seat=False), *(Change(m, Role.MEMBER, seat=True) for m in others)]
    refuse_if_impossible(plan(*giving), ORG)


def test_a_change_that_would_leave_no_admin_is_refused() -> None:
    admin = replace(MEMBER, role=Role.ACCOUNT_ADMIN, email="boss@example.com")
    with pytest.raises(LastAdmin) as refused:
        refuse_if_impossible(plan(Change(admin, Role.MEMBER, seat=False)), ORG)
    assert "boss@example.com" in str(refused.value)
    refuse_if_impossible(plan(Change(admin, Role.MEMBER, seat=False)), replace(ORG, admin_count=2))
