"""Audit records under concurrent changes (DynamoDB Local): every record's "from" is the value it replaced."""

from __future__ import annotations

from chalicelib.domain.errors import Conflict
from chalicelib.services import bootstrap, orgs
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.orgs import OrgModel
from tests.local.test_concurrency import actor, run_together

ROUNDS, THREADS = 5, 8


def changes(org_id: str, action: str) -> list[tuple[object, object]]:
    return [(a.details["from"], a.details["to"]) for a in AuditModel.query(org_id) if a.action == action]


def assert_one_chain(records: list[tuple[object, object]], start: object, end: object) -> None:
    """The records, followed from ``start`` through each "to", are one path ending at the stored value."""
    by_from = dict(records)
    assert len(by_from) == len(records), f"two records replaced the same value: {records}"
    at, walked = start, 0
    while at in by_from:
        at, walked = by_from[at], walked + 1
    assert walked == len(records) and at == end, (start, end, records)


def test_concurrent_capacity_changes_each_audit_the_capacity_they_replaced(local_tables: str) -> None:
    boot = bootstrap.bootstrap("Acme", "admin@acme.test", seat_capacity=10)
    who = actor(boot.account_id, 0)
    start = 10
    for round_no in range(ROUNDS):
        wanted = [100 * (round_no + 1) + n for n in range(THREADS)]  # distinct values, none seen before
        results = run_together([lambda c=c: orgs.set_capacity(boot.org_id, who, c) for c in wanted])
        assert all(not isinstance(r, Exception) or isinstance(r, Conflict) for r in results), results
        assert any(not isinstance(r, Exception) for r in results)
        stored = int(OrgModel.get(boot.org_id, consistent_read=True).seat_capacity)
        mine = [c for c in changes(boot.org_id, "org.seat_capacity_changed") if c[1] in wanted]
        assert len(mine) == sum(not isinstance(r, Exception) for r in results)  # one record per change made
        assert_one_chain(mine, start, stored)
        start = stored


def test_concurrent_renames_each_audit_the_name_they_replaced(local_tables: str) -> None:
    boot = bootstrap.bootstrap("Acme", "admin@acme.test")
    who = actor(boot.account_id, 0)
    names = [f"Acme {n}" for n in range(THREADS)]
    results = run_together([lambda n=n: orgs.rename(boot.org_id, who, n) for n in names])
    assert all(not isinstance(r, Exception) or isinstance(r, Conflict) for r in results), results
    stored = str(OrgModel.get(boot.org_id, consistent_read=True).name)
    assert_one_chain(changes(boot.org_id, "org.renamed"), "Acme", stored)
