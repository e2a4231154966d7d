"""The audit log: one record per change, newest first, filters, pagination, admin only."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.clock import set_clock
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.models import Actor
from chalicelib.services import audit
from tests.support.helpers import Api, Person, Seed
from tests.support.table_scan import snapshot


def stepping_clock() -> None:
    """From tomorrow (after the seed), every call to now() is one second later: each change has its own time."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    ticks = itertools.count()
    set_clock(lambda: start + timedelta(seconds=next(ticks)))


def entries(api: Api, seed: Seed, query: str = "", limit: int = 2) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        url = f"/v1/orgs/{seed.org_id}/audit-log?limit={limit}" + (f"&{query}" if query else "")
        r = api.get(url + (f"&cursor={cursor}" if cursor else ""), seed.admin.key)
        assert r.status == 200, r.body
        items.extend(r.body["items"])
        cursor = r.body["next_cursor"]
        if not cursor:
            return items


def test_every_change_is_recorded_newest_first(api: Api, seed: Seed) -> None:
    stepping_clock()
    org, admin = seed.org_id, seed.admin
    base = f"/v1/orgs/{org}/members"
    before = entries(api, seed, limit=200)
    assert api.patch(f"/v1/orgs/{org}", admin.key, {"name": "Acme 2"}).status == 200
    assert api.put(f"/v1/orgs/{org}/seats", seed.billing.key, {"capacity": 4}).status == 200
    added = api.post(base, admin.key, {"email": "new@acme.test"}).body["account_id"]
    assert api.put(f"{base}/{added}/role", admin.key, {"role": "billing_manager"}).status == 200
    assert api.delete(f"{base}/{added}", admin.key).status == 204
    assert api.delete(f"{base}/{seed.member.account_id}", seed.member.key).status == 204
    # Refused and failed calls leave no record.
    assert api.put(f"{base}/{admin.account_id}/role", admin.key, {"role": "member"}).status == 403
    assert api.post(base, admin.key, {"email": "new2@acme.test", "bogus": 1}).status == 400

    log = entries(api, seed)
    new = log[: len(log) - len(before)]
    assert log[len(new) :] == before
    expected = [
        ("member.left", "account:" + seed.member.account_id, seed.member.account_id, {"email": seed.member.email}),
        ("member.removed", "account:" + admin.account_id, added, {"email": "new@acme.test"}),
        ("member.role_changed", "account:" + admin.account_id, added, {"from": "member", "to": "billing_manager"}),
        ("member.added", "account:" + admin.account_id, added, {"email": "new@acme.test", "role": "member"}),
        ("org.seat_capacity_changed", "account:" + seed.billing.account_id, org, {"from": 10, "to": 4}),
        ("org.renamed", "account:" + admin.account_id, org, {"from": "Acme", "to": "Acme 2"}),
    ]
    assert [(e["action"], e["actor"], e["target"], e["details"]) for e in new] == expected
    times = [datetime.fromisoformat(e["at"]) for e in log]
    assert times == sorted(times, reverse=True)
    assert len({e["at"] for e in new}) == len(new)
    assert all(e["at"].endswith("Z") for e in log)
    # Each request has its own id, stamped on its records.
    request_ids = [e["request_id"] for e in new]
    assert all(request_ids) and len(set(request_ids)) == len(new)
    ids = [e["audit_id"] for e in log]
    assert len(set(ids)) == len(ids)


def test_filters_and_pagination(api: Api, seed: Seed) -> None:
    stepping_clock()
    base = f"/v1/orgs/{seed.org_id}/members"
    for i in range(5):
        assert api.post(base, seed.admin.key, {"email": f"f{i}@acme.test"}).status == 201
    mark = api.get(f"/v1/orgs/{seed.org_id}/audit-log?limit=1", seed.admin.key).body["items"][0]["at"]
    assert api.put(f"/v1/orgs/{seed.org_id}/seats", seed.billing.key, {"capacity": 3}).status == 200
    assert api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": "Acme X"}).status == 200

    everything = entries(api, seed, limit=200)
    for limit in (1, 2, 3, 7):
        walked = entries(api, seed, limit=limit)
        assert walked == everything, f"limit={limit}"

    added = entries(api, seed, "action=member.added", limit=2)
    assert len(added) == 3 + 5 and {e["action"] for e in added} == {"member.added"}
    assert added == [e for e in everything if e["action"] == "member.added"]
    by_billing = entries(api, seed, f"actor=account:{seed.billing.account_id}", limit=1)
    assert [e["action"] for e in by_billing] == ["org.seat_capacity_changed"]
    since = entries(api, seed, f"since={mark}")
    assert [e["action"] for e in since] == ["org.renamed", "org.seat_capacity_changed", "member.added"]
    assert all(e["at"] >= mark for e in since)
    both = entries(api, seed, f"since={mark}&action=org.renamed&actor=account:{seed.admin.account_id}")
    assert [e["action"] for e in both] == ["org.renamed"]
    assert entries(api, seed, "since=2099-01-01T00:00:00Z") == []
    assert entries(api, seed, "action=nothing.happened") == []


def test_admin_only_and_bad_queries(api: Api, seed: Seed) -> None:
    path = f"/v1/orgs/{seed.org_id}/audit-log"
    for caller in (seed.billing, seed.member):
        r = api.get(path, caller.key)
        assert r.status == 403 and r.code == "forbidden"
    r = api.get(path, seed.outsider.key)
    assert r.status == 404 and set(r.body) == {"error"}
    before = snapshot()
    for query in ("since=yesterday", "limit=0", "limit=201", "limit=x", "cursor=!!", "colour=blue", "since="):
        r = api.get(f"{path}?{query}", seed.admin.key)
        assert r.status == 400 and r.code == "invalid_request", (query, r.body)
        assert r.body["error"]["details"], query
    assert snapshot() == before


def test_target_filter_returns_only_that_targets_entries_newest_first(api: Api, seed: Seed) -> None:
    stepping_clock()
    org, admin, member = seed.org_id, seed.admin, seed.member.account_id
    base = f"/v1/orgs/{org}/members"
    assert api.post(f"{base}/{member}/seat?notify=false", admin.key).status == 200
    assert api.put(f"{base}/{seed.billing.account_id}/role", admin.key, {"role": "member"}).status == 200
    assert api.put(f"{base}/{member}/role", admin.key, {"role": "billing_manager"}).status == 200
    assert api.patch(f"/v1/orgs/{org}", admin.key, {"name": "Acme T"}).status == 200
    for i in range(3):
        assert api.post(base, admin.key, {"email": f"t{i}@acme.test"}).status == 201
    assert api.delete(f"{base}/{member}/seat", admin.key).status == 204

    everything = entries(api, seed, limit=200)
    about_member = [e for e in everything if e["target"] == member]
    actions = ["seat.revoked", "member.role_changed", "seat.assigned", "member.added"]
    assert [e["action"] for e in about_member] == actions
    for limit in (1, 2, 3, 200):  # every page size walks the same entries, newest first, by the cursor
        assert entries(api, seed, f"target={member}", limit=limit) == about_member, f"limit={limit}"
    about_org = entries(api, seed, f"target={org}", limit=1)
    assert about_org == [e for e in everything if e["target"] == org]
    assert [e["action"] for e in about_org][:1] == ["org.renamed"] and len(about_org) >= 2
    # limit counts matches: a page of 2 holds two of the member's entries and a cursor to the rest.
    first = api.get(f"/v1/orgs/{org}/audit-log?limit=2&target={member}", admin.key).body
    assert [e["action"] for e in first["items"]] == actions[:2] and first["next_cursor"]
    # With the other filters, every condition holds.
    roles = entries(api, seed, f"target={member}&action=member.role_changed")
    assert [(e["action"], e["details"]) for e in roles] == [
        ("member.role_changed", {"from": "member", "to": "billing_manager"})
    ]
    assert entries(api, seed, f"target={member}&actor=account:{seed.billing.account_id}") == []
    assert entries(api, seed, "target=acc_nobody") == []


def test_a_bad_target_is_a_400_in_the_error_shape_and_changes_nothing(api: Api, seed: Seed) -> None:
    path = f"/v1/orgs/{seed.org_id}/audit-log"
    before = snapshot()
    for query in ("target=", "target=" + "a" * 65):
        r = api.get(f"{path}?{query}", seed.admin.key)
        assert r.status == 400 and r.code == "invalid_request", (query, r.body)
        assert set(r.body) == {"error"} and r.body["error"]["message"] and r.body["error"]["details"], query
    details = api.get(f"{path}?target=", seed.admin.key).body["error"]["details"]
    assert [d["field"] for d in details] == ["query.target"]
    for caller in (seed.billing, seed.member):  # the filter opens nothing to those who may not read the log
        r = api.get(f"{path}?target={caller.account_id}", caller.key)
        assert r.status == 403 and r.code == "forbidden"
    assert snapshot() == before


def test_the_target_parameter_is_documented() -> None:
    from chalicelib.http.openapi import document

    params = document()["paths"]["/v1/orgs/{org_id}/audit-log"]["get"]["parameters"]
    [target] = [p for p in params if p["name"] == "target"]
    assert target["in"] == "query" and not target["required"]
    schema = target["schema"]
    assert "account id" in schema["description"]
    assert {"type": "string", "minLength": 1, "maxLength": 64} in schema["anyOf"]


# --- the service checks permission itself --------------------------------------------------------


def test_list_entries_checks_the_callers_permission_itself(api: Api, seed: Seed) -> None:
    """Like every other service: a stranger gets 404 for the org, a member without the permission 403."""

    def actor(person: Person) -> Actor:
        return Actor(actor=f"account:{person.account_id}", request_id="t", account_id=person.account_id)

    listed = audit.list_entries(seed.org_id, actor(seed.admin), limit=200).items
    assert "org.created" in {e.action for e in listed}
    for person, refused in ((seed.member, Forbidden), (seed.billing, Forbidden), (seed.outsider, NotFound)):
        with pytest.raises(refused):
            audit.list_entries(seed.org_id, actor(person))
        with pytest.raises(refused):
            audit.recent_about(seed.org_id, actor(person), seed.member.account_id, shown=5, pages=1, read_each=10)
    about = audit.recent_about(seed.org_id, actor(seed.admin), seed.member.account_id, shown=5, pages=1, read_each=50)
    assert about and {e.target for e in about} == {seed.member.account_id}
