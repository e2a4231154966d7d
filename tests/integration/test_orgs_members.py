"""Organizations, seat capacity, members and roles through the HTTP API."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.domain.errors import LastAdmin
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.services import members, orgs
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed
from tests.support.permission_table import new_person
from tests.support.table_scan import snapshot


def org_counts(org_id: str) -> tuple[int, int]:
    """(admin_count, member_count) as stored, checked against the real members."""
    item = OrgModel.get(org_id, consistent_read=True)
    rows = list(MemberModel.query(org_id, consistent_read=True))
    admins = sum(1 for m in rows if m.role == "account_admin")
    assert int(item.admin_count) == admins, "admin_count drifted from the members"
    assert int(item.member_count) == len(rows), "member_count drifted from the members"
    return admins, len(rows)


def test_create_get_rename_org(api: Api, seed: Seed) -> None:
    r = api.post("/v1/orgs", seed.member.key, {"name": "  Initech  "})
    assert r.status == 201, r.body
    org = r.body
    assert org["name"] == "Initech" and org["your_role"] == "account_admin"
    assert org["seats"] == {"capacity": 0, "used": 0, "available": 0}
    assert (org["member_count"], org["admin_count"]) == (1, 1)
    assert org["org_id"].startswith("org_") and org["created_at"].endswith("Z")

    r = api.get(f"/v1/orgs/{org['org_id']}", seed.member.key)
    assert r.status == 200 and r.body["name"] == "Initech"
    r = api.patch(f"/v1/orgs/{org['org_id']}", seed.member.key, {"name": "Initrode"})
    assert r.status == 200 and r.body["name"] == "Initrode"
    assert api.get(f"/v1/orgs/{org['org_id']}", seed.member.key).body["name"] == "Initrode"
    # The creator's other org is untouched, and strangers still see nothing.
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.member.key).body["name"] == "Acme"
    assert api.get(f"/v1/orgs/{org['org_id']}", seed.admin.key).status == 404
    assert org_counts(org["org_id"]) == (1, 1)


def test_unknown_org_is_404(api: Api, seed: Seed) -> None:
    for path in ("/v1/orgs/org_nope", "/v1/orgs/org_nope/members", "/v1/orgs/org_nope/audit-log"):
        r = api.get(path, seed.admin.key)
        assert r.status == 404 and r.code == "not_found", (path, r.body)


def test_seat_capacity(api: Api, seed: Seed) -> None:
    path = f"/v1/orgs/{seed.org_id}/seats"
    r = api.put(path, seed.billing.key, {"capacity": 25})
    assert r.status == 200 and r.body["seats"] == {"capacity": 25, "used": 0, "available": 25}
    # Seats are assigned by another capability; set usage directly here.
    OrgModel(seed.org_id).update(actions=[OrgModel.seats_used.set(3)])
    r = api.put(path, seed.admin.key, {"capacity": 2})
    assert r.status == 409 and r.code == "capacity_below_usage", r.body
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body["seats"] == {
        "capacity": 25,
        "used": 3,
        "available": 22,
    }
    r = api.put(path, seed.admin.key, {"capacity": 3})
    assert r.status == 200 and r.body["seats"] == {"capacity": 3, "used": 3, "available": 0}
    assert api.put(path, seed.admin.key, {"capacity": 0}).code == "capacity_below_usage"


# --- members -----------------------------------------------------------------


def add(api: Api, seed: Seed, email: str, role: str = "member") -> dict:
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": email, "role": role})
    assert r.status == 201, r.body
    return r.body


def walk(api: Api, key: str, path: str, query: str = "", limit: int = 3) -> list[dict]:
    """Every item of a list, following next_cursor; checks each page's size."""
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        url = f"{path}?limit={limit}" + (f"&{query}" if query else "") + (f"&cursor={cursor}" if cursor else "")
        r = api.get(url, key)
        assert r.status == 200, r.body
        assert len(r.body["items"]) <= limit
        items.extend(r.body["items"])
        cursor = r.body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("pagination did not end")


def test_list_members_filters_and_pagination(api: Api, seed: Seed) -> None:
    for i in range(7):
        add(api, seed, f"zed{i}@acme.test")
    for i in range(3):
        add(api, seed, f"ann{i}@acme.test", "billing_manager")
    seated = [add(api, seed, f"sam{i}@acme.test")["account_id"] for i in range(2)]
    for account_id in seated:  # seats are another capability's; mark them directly
        MemberModel(seed.org_id, account_id).update(actions=[MemberModel.has_seat.set(True)])
    path = f"/v1/orgs/{seed.org_id}/members"

    everyone = walk(api, seed.admin.key, path)
    ids = [m["account_id"] for m in everyone]
    assert len(ids) == len(set(ids)) == 3 + 7 + 3 + 2
    assert ids == sorted(ids)
    assert walk(api, seed.billing.key, path, limit=200) == everyone

    billing = walk(api, seed.admin.key, path, "role=billing_manager", limit=2)
    expected = ["billing@acme.test"] + [f"ann{i}@acme.test" for i in range(3)]
    assert sorted(m["email"] for m in billing) == sorted(expected)
    assert {m["account_id"] for m in walk(api, seed.admin.key, path, "seat=true", limit=2)} == set(seated)
    assert len(walk(api, seed.admin.key, path, "seat=false", limit=4)) == 13

    zed = walk(api, seed.admin.key, path, "email_prefix=ZED", limit=2)
    assert [m["email"] for m in zed] == [f"zed{i}@acme.test" for i in range(7)]
    both = walk(api, seed.admin.key, path, "email_prefix=sam&seat=true&role=member", limit=1)
    assert {m["account_id"] for m in both} == set(seated)
    assert walk(api, seed.admin.key, path, "email_prefix=nobody") == []


def test_tampered_and_foreign_cursors_are_400(api: Api, seed: Seed) -> None:
    for i in range(4):
        add(api, seed, f"p{i}@acme.test")
    path = f"/v1/orgs/{seed.org_id}/members"
    cursor = api.get(f"{path}?limit=2", seed.admin.key).body["next_cursor"]
    assert cursor
    # A cursor of the other org (its admin lists their own members) is refused in this org.
    add_r = api.post(f"/v1/orgs/{seed.other_org_id}/members", seed.outsider.key, {"email": "x1@globex.test"})
    assert add_r.status == 201
    api.post(f"/v1/orgs/{seed.other_org_id}/members", seed.outsider.key, {"email": "x2@globex.test"})
    foreign = api.get(f"/v1/orgs/{seed.other_org_id}/members?limit=1", seed.outsider.key).body["next_cursor"]
    assert foreign

    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    bad = [
        foreign,
        cursor[:-3] + "xyz",
        "not-a-cursor",
        "%%%",
        enc([1, 2]),
        enc({"org_id": {"S": seed.org_id}}),
        enc({"org_id": {"S": seed.org_id}, "account_id": {"N": "1"}}),
        enc({"org_id": {"S": seed.org_id}, "account_id": {"S": "acc_x"}, "extra": {"S": "y"}}),
        enc({**key, "org_id": {"S": seed.other_org_id}}),
        enc({"org_id": {"B": "AAAA"}, "account_id": {"S": "a"}}),
    ]
    before = snapshot()
    for value in bad:
        r = api.get(f"{path}?limit=2&cursor={value}", seed.admin.key)
        assert r.status == 400 and r.code == "invalid_request", (value, r.status, r.body)
        assert r.body["error"]["details"][0]["field"] == "cursor"
        r = api.get(f"{path}?limit=2&email_prefix=p&cursor={value}", seed.admin.key)
        assert r.status == 400 and r.code == "invalid_request", (value, r.status, r.body)
    assert snapshot() == before


def test_get_member(api: Api, seed: Seed) -> None:
    base = f"/v1/orgs/{seed.org_id}/members"
    r = api.get(f"{base}/{seed.member.account_id}", seed.member.key)
    assert r.status == 200 and r.body["email"] == seed.member.email and r.body["role"] == "member"
    r = api.get(f"{base}/{seed.admin.account_id}", seed.member.key)
    assert r.status == 403 and r.code == "forbidden"
    assert api.get(f"{base}/{seed.member.account_id}", seed.billing.key).status == 200
    assert api.get(f"{base}/{seed.member.account_id}", seed.admin.key).status == 200
    # Not a member here (but a member elsewhere), or no such account: 404.
    for account_id in (seed.outsider.account_id, "acc_nobody"):
        r = api.get(f"{base}/{account_id}", seed.admin.key)
        assert r.status == 404 and r.code == "not_found"
    # The outsider asking about their own account in our org: still nothing.
    r = api.get(f"{base}/{seed.outsider.account_id}", seed.outsider.key)
    assert r.status == 404 and set(r.body) == {"error"}


def test_direct_add(api: Api, seed: Seed) -> None:
    path = f"/v1/orgs/{seed.org_id}/members"
    # On the org's verified domain (acme.test): added at once, the account created.
    r = api.post(path, seed.admin.key, {"email": "  New.Person@Acme.TEST ", "role": "billing_manager"})
    assert r.status == 201, r.body
    assert r.body["status"] == "added" and r.body["account_id"]
    assert r.body["email"] == "new.person@acme.test" and r.body["role"] == "billing_manager"
    assert r.body["seat"] is False and "account_created" not in r.body
    # The same address in another case is the same account: already a member.
    r2 = api.post(path, seed.admin.key, {"email": "new.person@ACME.test"})
    assert r2.status == 409 and r2.code == "already_member"
    # An existing account off the verified domains (the outsider) is invited, not attached.
    r3 = api.post(path, seed.admin.key, {"email": seed.outsider.email})
    assert r3.status == 202 and r3.body["status"] == "invited" and r3.body["account_id"] is None, r3.body
    roles = {(m["org_id"], m["role"]) for m in api.get("/v1/me", seed.outsider.key).body["memberships"]}
    assert roles == {(seed.other_org_id, "account_admin")}
    assert org_counts(seed.org_id) == (1, 4)
    # Another org cannot attach that account either (acme.test is not its domain).
    r4 = api.post(f"/v1/orgs/{seed.other_org_id}/members", seed.outsider.key, {"email": "NEW.person@acme.test"})
    assert r4.status == 202 and r4.body["account_id"] is None and r4.body["status"] == "invited"


def test_role_changes_keep_admin_count(api: Api, seed: Seed) -> None:
    base = f"/v1/orgs/{seed.org_id}/members"
    r = api.put(f"{base}/{seed.admin.account_id}/role", seed.admin.key, {"role": "member"})
    assert r.status == 403 and r.code == "cannot_change_own_role"
    r = api.put(f"{base}/{seed.admin.account_id}/role", seed.admin.key, {"role": "account_admin"})
    assert r.status == 403 and r.code == "cannot_change_own_role"

    r = api.put(f"{base}/{seed.member.account_id}/role", seed.admin.key, {"role": "account_admin"})
    assert r.status == 200 and r.body["role"] == "account_admin"
    assert org_counts(seed.org_id) == (2, 3)
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body["admin_count"] == 2
    # The promoted member now acts as an admin: demotes the billing manager to member.
    r = api.put(f"{base}/{seed.billing.account_id}/role", seed.member.key, {"role": "member"})
    assert r.status == 200 and r.body["role"] == "member"
    # Setting the same role again changes nothing.
    r = api.put(f"{base}/{seed.billing.account_id}/role", seed.member.key, {"role": "member"})
    assert r.status == 200 and org_counts(seed.org_id) == (2, 3)
    # Demote the first admin; now the former member is the only admin.
    r = api.put(f"{base}/{seed.admin.account_id}/role", seed.member.key, {"role": "billing_manager"})
    assert r.status == 200 and org_counts(seed.org_id) == (1, 3)
    # The demoted admin has lost admin rights at once.
    r = api.put(f"{base}/{seed.member.account_id}/role", seed.admin.key, {"role": "member"})
    assert r.status == 403 and r.code == "forbidden"
    r = api.put(f"{base}/acc_nobody/role", seed.member.key, {"role": "member"})
    assert r.status == 404
    assert org_counts(seed.org_id) == (1, 3)


def test_last_admin_cannot_be_demoted_or_removed_by_an_org_credential(api: Api, seed: Seed) -> None:
    """An org-bound credential (SCIM) acts as admin without being a member: it meets the counter."""
    scim = Actor(actor="scim:tok_test", request_id="req-scim", scope_org=seed.org_id)
    with pytest.raises(LastAdmin):
        members.change_role(seed.org_id, scim, seed.admin.account_id, Role.MEMBER)
    with pytest.raises(LastAdmin):
        members.remove_member(seed.org_id, scim, seed.admin.account_id)
    assert org_counts(seed.org_id) == (1, 3)
    members.change_role(seed.org_id, scim, seed.member.account_id, Role.ACCOUNT_ADMIN)
    members.change_role(seed.org_id, scim, seed.admin.account_id, Role.MEMBER)
    assert org_counts(seed.org_id) == (1, 3)
    assert orgs.load(seed.org_id).admin_count == 1


def test_remove_and_leave(api: Api, seed: Seed) -> None:
    base = f"/v1/orgs/{seed.org_id}/members"
    extra = new_person(seed, Role.MEMBER, "extra")
    # Only admins remove others.
    for caller in (seed.billing, seed.member):
        r = api.delete(f"{base}/{extra.account_id}", caller.key)
        assert r.status == 403 and r.code == "forbidden"
    assert api.delete(f"{base}/{extra.account_id}", seed.admin.key).status == 204
    assert api.get(f"{base}/{extra.account_id}", seed.admin.key).status == 404
    assert api.delete(f"{base}/{extra.account_id}", seed.admin.key).status == 404
    assert org_counts(seed.org_id) == (1, 3)

    # Members and billing managers leave by removing themselves.
    assert api.delete(f"{base}/{seed.member.account_id}", seed.member.key).status == 204
    assert api.delete(f"{base}/{seed.billing.account_id}", seed.billing.key).status == 204
    assert org_counts(seed.org_id) == (1, 1)

    # The last admin can neither leave nor be removed.
    r = api.delete(f"{base}/{seed.admin.account_id}", seed.admin.key)
    assert r.status == 409 and r.code == "last_admin"
    second = new_person(seed, Role.ACCOUNT_ADMIN, "second")
    assert org_counts(seed.org_id) == (2, 2)
    assert api.delete(f"{base}/{seed.admin.account_id}", seed.admin.key).status == 204
    assert org_counts(seed.org_id) == (1, 1)
    r = api.delete(f"{base}/{second.account_id}", second.key)
    assert r.status == 409 and r.code == "last_admin"
    # The admin who left is a stranger now.
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).status == 404
    # A former member cannot remove anyone either.
    r = api.delete(f"{base}/{second.account_id}", seed.member.key)
    assert r.status == 404
    assert org_counts(seed.org_id) == (1, 1)


def test_org_writes_answer_with_the_callers_role(api: Api, seed: Seed) -> None:
    renamed = api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": "Acme 2"})
    assert renamed.body["your_role"] == "account_admin"
    resized = api.put(f"/v1/orgs/{seed.org_id}/seats", seed.billing.key, {"capacity": 20})
    assert resized.body["your_role"] == "billing_manager" and resized.body["seats"]["capacity"] == 20
