"""Group changes under concurrency and at size, on DynamoDB Local (the real engine's transactions).

Invariant 1 through SCIM groups: concurrent PATCHes adding overlapping
members to seat-granting groups never hand out more seats than the org has,
each is applied whole or refused whole, and the counters equal the members.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.clock import now
from chalicelib.domain.errors import DomainError
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.scim import groups as scim_groups
from chalicelib.services import bootstrap, groups
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BASE = "http://localhost/scim/v2"


def org_with_people(n: int, capacity: int) -> tuple[str, Actor, list[str]]:
    """An org with ``n`` seatless members, written directly (the setup, not the thing under test)."""
    boot = bootstrap.bootstrap("Acme", "admin@acme.test", seat_capacity=capacity)
    stamp = now()
    ids = [f"acc_load{i:05d}" for i in range(n)]
    with MemberModel.batch_write() as batch:
        for i, account_id in enumerate(ids):
            batch.save(
                MemberModel(
                    boot.org_id,
                    account_id,
                    email=f"user{i}@acme.test",
                    role=Role.MEMBER.value,
                    has_seat=False,
                    seat_generation=0,
                    joined_at=stamp,
                    updated_at=stamp,
                )
            )
    OrgModel(boot.org_id).update(actions=[OrgModel.member_count.add(n)])
    admin = Actor(actor=f"account:{boot.account_id}", request_id="test", account_id=boot.account_id)
    return boot.org_id, admin, ids


def idp(org_id: str) -> Actor:
    return Actor(actor="scim:tok_test", request_id="test", scope_org=org_id)


def seat_group(org_id: str, admin: Actor, name: str) -> str:
    def want(group: Any, holders: Any) -> groups.Wanted:
        return groups.Wanted(name, None, set(), None, True)

    return groups.change(org_id, admin, None, want, action="group.created").group_id


def add(org_id: str, group_id: str, account_ids: list[str]) -> str:
    payload = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": a} for a in account_ids]}],
    }
    try:
        scim_groups.patch(org_id, idp(org_id), BASE, group_id, payload, None)
    except DomainError as exc:
        return exc.code
    return "ok"


def counters_exact(org_id: str) -> int:
    everyone = list(MemberModel.query(org_id, consistent_read=True))
    org = OrgModel.get(org_id, consistent_read=True)
    seated = sum(1 for m in everyone if m.has_seat)
    assert org.seats_used == seated <= org.seat_capacity
    assert org.admin_count == sum(1 for m in everyone if m.role == Role.ACCOUNT_ADMIN.value)
    return seated


def test_concurrent_overlapping_patches_never_oversubscribe(local_tables: str) -> None:
    """Six groups, each adding 8 of 24 people (overlapping), 10 seats: whole or nothing, never 11 seats."""
    org_id, admin, ids = org_with_people(24, capacity=10)
    group_ids = [seat_group(org_id, admin, f"Seats {n}") for n in range(6)]
    wanted = {gid: [ids[(4 * n + k) % 24] for k in range(8)] for n, gid in enumerate(group_ids)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = dict(zip(group_ids, pool.map(lambda g: add(org_id, g, wanted[g]), group_ids), strict=True))
    assert set(results.values()) <= {"ok", "seat_limit_reached"}, results
    assert "ok" in results.values() and "seat_limit_reached" in results.values()
    seated = counters_exact(org_id)
    holders = {gid: {m.account_id for m in groups.members_of(org_id, gid)} for gid in group_ids}
    for gid, outcome in results.items():
        # Applied whole, or refused whole: never a part of a PATCH.
        assert holders[gid] == (set(wanted[gid]) if outcome == "ok" else set()), (outcome, holders[gid])
    accepted = set().union(*(holders[g] for g, o in results.items() if o == "ok"))
    everyone = {m.account_id: m for m in MemberModel.query(org_id, consistent_read=True)}
    assert {a for a, m in everyone.items() if m.has_seat} == accepted
    assert seated == len(accepted) <= 10


def test_concurrent_patches_of_one_group_both_apply(local_tables: str) -> None:
    """Two IdP calls on the same group at once: serialized by the group's revision, neither is lost."""
    org_id, admin, ids = org_with_people(12, capacity=12)
    gid = seat_group(org_id, admin, "Shared")
    halves = [ids[:6], ids[6:]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda half: add(org_id, gid, half), halves))
    assert Counter(results) == {"ok": 2}
    assert {m.account_id for m in groups.members_of(org_id, gid)} == set(ids)
    assert counters_exact(org_id) == 12


def test_one_patch_adds_a_thousand_members(local_tables: str) -> None:
    """1,000 members in one PATCH: refused whole at 999 seats, then applied whole at 1,000."""
    org_id, admin, ids = org_with_people(1000, capacity=999)
    gid = seat_group(org_id, admin, "Everyone")
    assert add(org_id, gid, ids) == "seat_limit_reached"
    assert groups.members_of(org_id, gid) == [] and counters_exact(org_id) == 0
    OrgModel(org_id).update(actions=[OrgModel.seat_capacity.set(1000)])
    assert add(org_id, gid, ids) == "ok"
    assert len(groups.members_of(org_id, gid)) == 1000
    assert counters_exact(org_id) == 1000
    parts = [a for a in AuditModel.query(org_id) if a.action == "group.updated"]
    assert sum(p.details["members"] for p in parts) == 1000 and len(parts) == parts[0].details["parts"] > 1
    assert sum(1 for a in AuditModel.query(org_id) if a.action == "seat.assigned") == 1000
    # Deleting it takes back all 1,000 seats.
    scim_groups.delete(org_id, idp(org_id), BASE, gid, None)
    assert counters_exact(org_id) == 0
    assert not any(m.group_ids for m in MemberModel.query(org_id, consistent_read=True))


def test_a_later_part_that_loses_a_race_is_replanned(local_tables: str, monkeypatch: Any) -> None:
    """Between the parts of a large change, one member gets a seat by hand and another leaves the org:
    the part is re-read and re-planned, and the counters still equal the members."""
    from chalicelib.services import group_access, members, seats

    # One seat to spare: the first part already counts all 70, so a hand assignment needs a free one.
    org_id, admin, ids = org_with_people(70, capacity=71)
    gid = seat_group(org_id, admin, "Big")
    original = group_access._write_chunk
    interfered: list[str] = []

    def interfering(org: str, actor: Actor, plan: Any, chunk: list[Any], *args: Any) -> None:
        if not interfered:
            seated_by_hand, leaving = chunk[0].item.account_id, chunk[1].item.account_id
            seats.assign(org, admin, seated_by_hand, notify=False)
            members.remove_member(org, admin, leaving)
            interfered.extend([seated_by_hand, leaving])
        original(org, actor, plan, chunk, *args)

    monkeypatch.setattr(group_access, "_write_chunk", interfering)
    assert add(org_id, gid, ids) == "ok"
    assert len(interfered) == 2
    holders = {m.account_id for m in groups.members_of(org_id, gid)}
    assert holders == set(ids) - {interfered[1]}
    assert counters_exact(org_id) == 69


def test_a_later_part_that_fails_for_good_gives_back_its_count(local_tables: str, monkeypatch: Any) -> None:
    """Part 2 of 3 keeps losing its race (here: its one allowed try): 409, and the counters still equal the
    members; sending the change again completes it without counting anyone twice."""
    from chalicelib.services import group_access, seats

    org_id, admin, ids = org_with_people(200, capacity=201)
    gid = seat_group(org_id, admin, "Big")
    monkeypatch.setattr(group_access, "CHUNK_ATTEMPTS", 1)
    original = group_access._write_chunk
    calls: list[int] = []

    def interfering(org: str, actor: Actor, plan: Any, chunk: list[Any], number: int, *args: Any) -> None:
        calls.append(number)
        if number == 2:  # a hand assignment of one of the part's members, between the plan and the write
            seats.assign(org, admin, chunk[0].item.account_id, notify=False)
        original(org, actor, plan, chunk, number, *args)

    monkeypatch.setattr(group_access, "_write_chunk", interfering)
    assert add(org_id, gid, ids) == "conflict"
    assert calls == [2]  # the parts after the failed one were not tried
    seated = counters_exact(org_id)
    assert 1 < seated < 200  # part 1 and the hand-assigned seat hold, the rest was given back
    monkeypatch.setattr(group_access, "_write_chunk", original)
    monkeypatch.setattr(group_access, "CHUNK_ATTEMPTS", 4)
    assert add(org_id, gid, ids) == "ok"
    assert counters_exact(org_id) == 200
