"""Seats over HTTP: single and bulk assign/revoke, direct add with a seat, bulk onboarding."""

from __future__ import annotations

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.services import accounts, members
from chalicelib.storage.members import MemberModel
from tests.support.helpers import Api, Person, Seed, add_person


def seats(api: Api, seed: Seed) -> dict:
    return dict(api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body["seats"])


def seated_count(org_id: str) -> int:
    return sum(1 for m in MemberModel.query(org_id) if m.has_seat)


def audit_actions(api: Api, seed: Seed) -> list[str]:
    return [e["action"] for e in api.get(f"/v1/orgs/{seed.org_id}/audit-log?limit=200", seed.admin.key).body["items"]]


def more_members(seed: Seed, n: int) -> list[Person]:
    return [add_person(seed.org_id, seed.admin, f"user{i}@acme.test", Role.MEMBER) for i in range(n)]


def set_capacity(api: Api, seed: Seed, capacity: int) -> None:
    assert api.put(f"/v1/orgs/{seed.org_id}/seats", seed.admin.key, {"capacity": capacity}).status == 200


def test_assign_and_revoke_one_seat(api: Api, seed: Seed) -> None:
    path = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat"
    r = api.post(path, seed.admin.key)
    assert r.status == 200 and r.body["seat"] is True and r.body["seat_assigned_at"]
    assert seats(api, seed) == {"capacity": 10, "used": 1, "available": 9}
    r = api.post(path, seed.admin.key)
    assert r.status == 409 and r.code == "seat_already_assigned"
    item = MemberModel.get(seed.org_id, seed.member.account_id)
    assert item.seat_notify is True and item.seat_generation == 0

    assert api.delete(path, seed.admin.key).status == 204
    assert seats(api, seed)["used"] == 0
    item = MemberModel.get(seed.org_id, seed.member.account_id)
    assert item.has_seat is False and item.seat_generation == 1
    r = api.delete(path, seed.admin.key)
    assert r.status == 404 and r.code == "no_seat"
    assert seats(api, seed)["used"] == 0

    r = api.post(f"{path}?notify=false", seed.admin.key)
    assert r.status == 200
    assert MemberModel.get(seed.org_id, seed.member.account_id).seat_notify is False
    r = api.post(f"{path}?notify=maybe", seed.admin.key)
    assert r.status == 400 and r.code == "invalid_request"

    r = api.post(f"/v1/orgs/{seed.org_id}/members/acc_missing/seat", seed.admin.key)
    assert r.status == 404 and r.code == "not_found"
    assert audit_actions(api, seed).count("seat.assigned") == 2
    assert audit_actions(api, seed).count("seat.revoked") == 1


def test_single_assign_without_free_seat_is_402(api: Api, seed: Seed) -> None:
    set_capacity(api, seed, 1)
    assert api.post(f"/v1/orgs/{seed.org_id}/members/{seed.admin.account_id}/seat", seed.admin.key).status == 200
    r = api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat", seed.admin.key)
    assert r.status == 402 and r.code == "seat_limit_reached"
    assert seats(api, seed) == {"capacity": 1, "used": 1, "available": 0}
    assert MemberModel.get(seed.org_id, seed.member.account_id).has_seat is False
    r = api.put(f"/v1/orgs/{seed.org_id}/seats", seed.admin.key, {"capacity": 0})
    assert r.status == 409 and r.code == "capacity_below_usage"


def test_seat_routes_by_role(api: Api, seed: Seed) -> None:
    one = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat"
    bulk = {"account_ids": [seed.member.account_id]}
    for person in (seed.billing, seed.member):
        assert api.post(one, person.key).status == 403
        assert api.delete(one, person.key).status == 403
        assert api.post(f"/v1/orgs/{seed.org_id}/seats/assign", person.key, bulk).status == 403
        assert api.post(f"/v1/orgs/{seed.org_id}/seats/revoke", person.key, bulk).status == 403
        r = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", person.key, {"emails": ["a@b.test"]})
        assert r.status == 403
    assert api.post(one, seed.outsider.key).status == 404
    assert api.post(f"/v1/orgs/{seed.org_id}/seats/assign", seed.outsider.key, bulk).status == 404
    assert api.post(one).status == 401
    assert seats(api, seed)["used"] == 0


def test_bulk_assign_in_order_until_seats_run_out(api: Api, seed: Seed) -> None:
    people = more_members(seed, 5)
    set_capacity(api, seed, 4)
    assert api.post(f"/v1/orgs/{seed.org_id}/members/{people[0].account_id}/seat", seed.admin.key).status == 200
    ids = [people[0].account_id, "acc_nobody", people[1].account_id, people[2].account_id]
    ids += [people[1].account_id, people[3].account_id, people[4].account_id]
    r = api.post(f"/v1/orgs/{seed.org_id}/seats/assign", seed.admin.key, {"account_ids": ids})
    assert r.status == 200, r.body
    assert [i["status"] for i in r.body["items"]] == [
        "already_assigned",
        "not_member",
        "assigned",
        "assigned",
        "already_assigned",  # repeated id
        "assigned",
        "seat_limit_reached",
    ]
    assert [i["account_id"] for i in r.body["items"]] == ids
    assert r.body["summary"] == {"already_assigned": 2, "not_member": 1, "assigned": 3, "seat_limit_reached": 1}
    assert seats(api, seed) == {"capacity": 4, "used": 4, "available": 0}
    assert seated_count(seed.org_id) == 4
    assert audit_actions(api, seed).count("seat.assigned") == 4


def test_bulk_assign_spans_several_transactions(api: Api, seed: Seed) -> None:
    people = more_members(seed, 60)
    set_capacity(api, seed, 55)
    ids = [p.account_id for p in people]
    r = api.post(f"/v1/orgs/{seed.org_id}/seats/assign", seed.admin.key, {"account_ids": ids, "notify": False})
    assert r.status == 200
    assert [i["status"] for i in r.body["items"]] == ["assigned"] * 55 + ["seat_limit_reached"] * 5
    assert seats(api, seed)["used"] == 55 == seated_count(seed.org_id)
    r = api.post(f"/v1/orgs/{seed.org_id}/seats/revoke", seed.admin.key, {"account_ids": ids})
    assert r.body["summary"] == {"revoked": 55, "no_seat": 5}
    assert seats(api, seed)["used"] == 0 == seated_count(seed.org_id)


def test_bulk_revoke(api: Api, seed: Seed) -> None:
    people = more_members(seed, 3)
    for p in people[:2]:
        api.post(f"/v1/orgs/{seed.org_id}/members/{p.account_id}/seat", seed.admin.key)
    ids = [people[0].account_id, people[2].account_id, "acc_nobody", people[1].account_id, people[0].account_id]
    r = api.post(f"/v1/orgs/{seed.org_id}/seats/revoke", seed.admin.key, {"account_ids": ids})
    assert r.status == 200
    assert [i["status"] for i in r.body["items"]] == ["revoked", "no_seat", "not_member", "revoked", "no_seat"]
    assert r.body["summary"] == {"revoked": 2, "no_seat": 2, "not_member": 1}
    assert seats(api, seed)["used"] == 0
    assert all(MemberModel.get(seed.org_id, p.account_id).seat_generation == 1 for p in people[:2])


def test_bulk_bodies_are_validated(api: Api, seed: Seed) -> None:
    for body in [{}, {"account_ids": []}, {"account_ids": ["a"] * 501}, {"account_ids": "acc"}, {"ids": ["a"]}]:
        r = api.post(f"/v1/orgs/{seed.org_id}/seats/assign", seed.admin.key, body)
        assert r.status == 400 and r.code == "invalid_request", body
    r = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, {"emails": ["a@b.test"] * 501})
    assert r.status == 400 and r.code == "invalid_request"


def test_direct_add_with_seat(api: Api, seed: Seed) -> None:
    set_capacity(api, seed, 1)
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "new@acme.test", "assign_seat": True})
    assert r.status == 201 and r.body["seat"] is True and r.body["status"] == "added"
    assert "account_created" not in r.body  # no answer tells whether the account existed
    assert seats(api, seed)["used"] == 1
    before = api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "late@acme.test", "assign_seat": True})
    assert r.status == 402 and r.code == "seat_limit_reached"
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body == before
    assert api.get(f"/v1/orgs/{seed.org_id}/members?email_prefix=late", seed.admin.key).body["items"] == []
    assert accounts.find_by_email("late@acme.test") is None  # the refused join created no account either


def test_onboard(api: Api, seed: Seed) -> None:
    set_capacity(api, seed, 2)
    emails = ["One@Acme.test", "not-an-email", "one@acme.test", seed.member.email, "two@acme.test", "three@acme.test"]
    r = api.post(
        f"/v1/orgs/{seed.org_id}/members/onboard",
        seed.admin.key,
        {"emails": emails, "role": "member", "issue_token": {"name": "onboarding"}},
    )
    assert r.status == 200, r.body
    items = r.body["items"]
    assert [i["status"] for i in items] == [
        "onboarded",
        "invalid_email",
        "duplicate_in_request",
        "already_member",
        "onboarded",
        "seat_limit_reached",
    ]
    assert r.body["summary"] == {
        "onboarded": 2,
        "invalid_email": 1,
        "duplicate_in_request": 1,
        "already_member": 1,
        "seat_limit_reached": 1,
    }
    assert items[0]["email"] == "one@acme.test" and items[0]["seat"] is True and "account_created" not in items[0]
    assert items[5]["seat"] is False and items[5]["token"] is None and items[5]["account_id"]
    assert items[3]["account_id"] == seed.member.account_id and items[3]["token"] is None
    for item in (items[0], items[4]):
        check = api.post("/v1/tokens/verify", None, {"token": item["token"]["secret"]}).body
        assert check["active"] is True and check["account_id"] == item["account_id"]
    assert seats(api, seed) == {"capacity": 2, "used": 2, "available": 0}
    listed = api.get(f"/v1/orgs/{seed.org_id}/members/{items[0]['account_id']}/tokens", seed.admin.key).body
    assert [t["token_id"] for t in listed["items"]] == [items[0]["token"]["token_id"]]
    assert "secret" not in listed["items"][0]
    actions = audit_actions(api, seed)
    assert actions.count("member.added") == 2 + 3 + 1  # seed (admin, billing, member) + 3 onboarded
    assert actions.count("token.issued") == 2


def test_onboard_rejects_a_bad_token_lifetime_without_changes(api: Api, seed: Seed) -> None:
    r = api.post(
        f"/v1/orgs/{seed.org_id}/members/onboard",
        seed.admin.key,
        {"emails": ["x@acme.test"], "issue_token": {"name": "t", "expires_at": "2000-01-01T00:00:00Z"}},
    )
    assert r.status == 400 and r.code == "invalid_request"
    assert api.get(f"/v1/orgs/{seed.org_id}/members?email_prefix=x", seed.admin.key).body["items"] == []


def test_remove_member_frees_the_seat(api: Api, seed: Seed) -> None:
    api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat", seed.admin.key)
    assert seats(api, seed)["used"] == 1
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}", seed.member.key).status == 204
    assert seats(api, seed)["used"] == 0


def test_service_bulk_falls_back_when_members_change_underneath(api: Api, seed: Seed) -> None:
    """A member removed between the read and the write: the chunk is retried and reports not_member."""
    from chalicelib.services import seats as seat_service

    people = more_members(seed, 3)
    actor = Actor(actor=f"account:{seed.admin.account_id}", request_id="t", account_id=seed.admin.account_id)
    real_read = seat_service._read_members
    calls = {"n": 0}

    def read_then_remove(org_id: str, account_ids: list[str]) -> dict:
        found = real_read(org_id, account_ids)
        calls["n"] += 1
        if calls["n"] == 1:
            members.remove_member(org_id, actor, people[1].account_id)
        return found

    seat_service._read_members = read_then_remove  # type: ignore[assignment]
    try:
        results = seat_service.assign_many(seed.org_id, actor, [p.account_id for p in people])
    finally:
        seat_service._read_members = real_read  # type: ignore[assignment]
    assert [r.status for r in results] == ["assigned", "not_member", "assigned"]
    assert seats(api, seed)["used"] == 2 == seated_count(seed.org_id)
