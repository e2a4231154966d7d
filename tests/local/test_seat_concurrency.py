"""Invariant 1 under concurrency, on DynamoDB Local (the real engine's transactions and conditions)."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from chalicelib.domain.errors import DomainError
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.services import bootstrap, members, orgs, seats
from chalicelib.storage.members import MemberModel
from tests.support.helpers import added, verify_domain_of


def org_with_members(n: int, capacity: int) -> tuple[str, Actor, list[str]]:
    boot = bootstrap.bootstrap("Acme", "admin@acme.test", seat_capacity=capacity)
    actor = Actor(actor=f"account:{boot.account_id}", request_id="test", account_id=boot.account_id)
    verify_domain_of(boot.org_id, boot.account_id, "acme.test")
    ids = [
        added(members.add_member(boot.org_id, actor, f"user{i}@acme.test", Role.MEMBER)).account_id for i in range(n)
    ]
    return boot.org_id, actor, ids


def assert_counter_exact(org_id: str, capacity: int) -> int:
    seated = sum(1 for m in MemberModel.query(org_id, consistent_read=True) if m.has_seat)
    org = orgs.load(org_id)
    assert org.seats_used == seated <= capacity == org.seat_capacity
    return seated


def outcome(fn: object) -> str:
    try:
        fn()  # type: ignore[operator]
    except DomainError as exc:
        return exc.code
    return "ok"


def test_concurrent_single_assigns_never_exceed_capacity(local_tables: str) -> None:
    org_id, actor, ids = org_with_members(50, capacity=10)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda a: outcome(lambda: seats.assign(org_id, actor, a, notify=False)), ids))
    assert Counter(results) == {"ok": 10, "seat_limit_reached": 40}
    assert assert_counter_exact(org_id, 10) == 10


def test_concurrent_bulk_assigns_never_exceed_capacity(local_tables: str) -> None:
    org_id, actor, ids = org_with_members(50, capacity=10)
    rng = random.Random(7)
    batches = [rng.sample(ids, 20) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: seats.assign_many(org_id, actor, b, notify=False), batches))
    assigned = [r.account_id for batch in results for r in batch if r.status == "assigned"]
    assert len(assigned) == len(set(assigned)) == 10
    assert assert_counter_exact(org_id, 10) == 10
    for batch in results:
        assert {r.status for r in batch} <= {"assigned", "already_assigned", "seat_limit_reached"}


def test_assign_and_revoke_storm_keeps_the_counter_exact(local_tables: str) -> None:
    org_id, actor, ids = org_with_members(20, capacity=8)
    rng = random.Random(11)
    operations = []
    for _ in range(160):
        kind = rng.choice(["assign", "revoke", "assign_many", "revoke_many"])
        picked = rng.sample(ids, 4)
        operations.append((kind, picked))

    def run(op: tuple[str, list[str]]) -> str:
        kind, picked = op
        if kind == "assign":
            return outcome(lambda: seats.assign(org_id, actor, picked[0], notify=False))
        if kind == "revoke":
            return outcome(lambda: seats.revoke(org_id, actor, picked[0]))
        if kind == "assign_many":
            return outcome(lambda: seats.assign_many(org_id, actor, picked, notify=False))
        return outcome(lambda: seats.revoke_many(org_id, actor, picked))

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(run, operations))
    assert set(results) <= {"ok", "seat_limit_reached", "seat_already_assigned", "no_seat"}, Counter(results)
    assert assert_counter_exact(org_id, 8) >= 0
    # Every member's seat generation counts its revocations; none is negative or skipped.
    assert all(int(m.seat_generation) >= 0 for m in MemberModel.query(org_id))
