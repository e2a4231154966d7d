"""The SCIM seat port: one transaction per change, idempotent, never past capacity."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.scim import seat_port
from chalicelib.services import bootstrap, members
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import added, verify_domain_of


def scim_actor(org_id: str) -> Actor:
    """What a SCIM token of the org acts as."""
    return Actor(actor="scim:sct_test", request_id="req-1", scope_org=org_id)


def org_with_members(count: int, capacity: int) -> tuple[str, list[str]]:
    boot = bootstrap.bootstrap("Seats", "admin@seats.example", seat_capacity=capacity)
    verify_domain_of(boot.org_id, boot.account_id, "seats.example")
    admin = Actor(actor=f"account:{boot.account_id}", request_id="seed", account_id=boot.account_id)
    ids = [
        added(members.add_member(boot.org_id, admin, f"p{i}@seats.example", Role.MEMBER)).account_id
        for i in range(count)
    ]
    return boot.org_id, ids


def used(org_id: str) -> int:
    return int(OrgModel.get(org_id, consistent_read=True).seats_used)


def test_assign_and_revoke_are_idempotent_and_audited(tables: str) -> None:
    org_id, (person,) = org_with_members(1, capacity=5)
    before = used(org_id)
    assert seat_port.assign(org_id, scim_actor(org_id), person) is True
    assert seat_port.assign(org_id, scim_actor(org_id), person) is True
    assert used(org_id) == before + 1
    seat_port.revoke(org_id, scim_actor(org_id), person)
    seat_port.revoke(org_id, scim_actor(org_id), person)
    assert used(org_id) == before
    item = members.get_item(org_id, person)
    assert item is not None and not item.has_seat and item.seat_generation == 1 and item.seat_assigned_at is None
    records = [(a.action, a.actor) for a in AuditModel.query(org_id) if a.target == person]
    assert records.count(("seat.assigned", "scim:sct_test")) == 1
    assert records.count(("seat.revoked", "scim:sct_test")) == 1


def test_concurrent_assigns_never_exceed_capacity(local_tables: str) -> None:
    """On the real engine only: moto does not serialize concurrent transactions."""
    org_id, people = org_with_members(6, capacity=0)
    OrgModel(org_id).update(actions=[OrgModel.seat_capacity.set(used(org_id) + 3)])
    with ThreadPoolExecutor(max_workers=6) as pool:
        granted = list(pool.map(lambda p: seat_port.assign(org_id, scim_actor(org_id), p), people))
    assert granted.count(True) == 3
    org = OrgModel.get(org_id, consistent_read=True)
    holders = [m for m in MemberModel.query(org_id, consistent_read=True) if m.has_seat]
    assert org.seats_used == len(holders) == org.seat_capacity
