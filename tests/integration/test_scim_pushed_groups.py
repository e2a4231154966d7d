"""SCIM Groups pushed by identity providers: stored per org, mapped to roles and seats.

The Okta Group Push and Entra ID group provisioning flows are replayed
request by request, in the shapes each sends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.roles import Role
from chalicelib.services import groups, members, scim_tokens, seats, tokens
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed, admin_actor, scim_seed
from tests.support.scim_helpers import PATCH_OP, Scim, issue_scim_token

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def seed(api: Api) -> Seed:
    return scim_seed(api)


@pytest.fixture
def scim(api: Api, seed: Seed) -> Scim:
    return Scim(api, issue_scim_token(seed)[1])


def item(seed: Seed, account_id: str) -> MemberModel:
    return MemberModel.get(seed.org_id, account_id, consistent_read=True)


def counters_exact(seed: Seed) -> OrgModel:
    everyone = list(MemberModel.query(seed.org_id, consistent_read=True))
    org = OrgModel.get(seed.org_id, consistent_read=True)
    assert org.seats_used == sum(1 for m in everyone if m.has_seat) <= org.seat_capacity
    assert org.admin_count == sum(1 for m in everyone if m.role == "account_admin") >= 1
    return org


def user(scim: Scim, email: str, active: bool = False) -> str:
    created = scim.create_user(email, active=active)
    assert created.status == 201, created.body
    return str(created.body["id"])


def ids(body: dict[str, Any]) -> set[str]:
    return {m["value"] for m in body.get("members", [])}


def map_group(seed: Seed, ref: str, role: Role | None = None, seat: bool = False) -> None:
    groups.set_mapping(seed.org_id, admin_actor(seed.admin), ref, role, seat)


def test_okta_group_push_flow(scim: Scim, seed: Seed) -> None:
    ann, bob = user(scim, "ann@okta.example"), user(scim, "bob@okta.example")
    # Okta looks the group up by name, then creates it empty, then pushes members.
    looked = scim.get('/Groups?filter=displayName eq "Engineering"&startIndex=1&count=100')
    assert looked.status == 200 and looked.body["totalResults"] == 0
    created = scim.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Engineering", "members": []})
    assert created.status == 201, created.body
    group_id = created.body["id"]
    assert created.headers["Location"].endswith(f"/Groups/{group_id}")
    map_group(seed, "engineering", seat=True)  # the admin maps it by name, any letter case
    pushed = scim.patch(
        f"/Groups/{group_id}",
        [{"op": "add", "path": "members", "value": [{"value": ann, "display": "ann@okta.example"}, {"value": bob}]}],
    )
    assert pushed.status == 200, pushed.body
    assert ids(pushed.body) == {ann, bob}
    assert item(seed, ann).has_seat and item(seed, bob).has_seat
    token, secret = tokens.issue_for(seed.org_id, admin_actor(seed.admin), ann, "laptop")
    assert tokens.verify(secret)["active"]
    # Okta renames with a value object holding id and displayName.
    renamed = scim.patch(
        f"/Groups/{group_id}", [{"op": "replace", "value": {"id": group_id, "displayName": "Engineers"}}]
    )
    assert renamed.status == 200, renamed.body
    assert renamed.body["displayName"] == "Engineers" and ids(renamed.body) == {ann, bob}
    found = scim.get('/Groups?filter=displayName eq "engineers"')
    assert [g["id"] for g in found.body["Resources"]] == [group_id]
    # Removing Ann from the only seat-granting group takes her seat and kills her tokens at once
    # (Okta removes one member per operation, by a path filter).
    removed = scim.patch(f"/Groups/{group_id}", [{"op": "remove", "path": f'members[value eq "{ann}"]'}])
    assert removed.status == 200, removed.body
    assert ids(removed.body) == {bob}
    assert not item(seed, ann).has_seat and item(seed, bob).has_seat
    assert not tokens.verify(secret)["active"]
    counters_exact(seed)
    # Deleting the group takes back every seat it granted.
    assert scim.delete(f"/Groups/{group_id}").status == 204
    assert scim.get(f"/Groups/{group_id}").status == 404
    assert not item(seed, bob).has_seat
    counters_exact(seed)
    actions = [a.action for a in AuditModel.query(seed.org_id) if a.target == group_id]
    assert {"group.created", "group.mapping_set", "group.updated", "group.deleted"} <= set(actions)
    by_idp = {
        a.actor for a in AuditModel.query(seed.org_id) if a.target == group_id and a.action != "group.mapping_set"
    }
    assert len(by_idp) == 1 and next(iter(by_idp)).startswith("scim:")
    seat_records = [a for a in AuditModel.query(seed.org_id) if a.action == "seat.revoked" and a.target == ann]
    assert len(seat_records) == 1 and seat_records[0].actor.startswith("scim:")
    assert token.token_id


def test_entra_group_provisioning_flow(scim: Scim, seed: Seed) -> None:
    """Microsoft Entra ID's requests as its SCIM provisioning documentation shows them."""
    ada, cy = user(scim, "ada@entra.example"), user(scim, "cy@entra.example")
    # Entra looks the group up by its matching attribute, members left out, before creating it.
    looked = scim.get('/Groups?excludedAttributes=members&filter=displayName eq "Finance"')
    assert looked.status == 200 and looked.body["totalResults"] == 0
    created = scim.post(
        "/Groups",
        {
            "externalId": "0f1e-entra",
            "displayName": "Finance",
            "members": [],
            "meta": {"resourceType": "Group"},
            "schemas": [GROUP_SCHEMA],
        },
    )
    assert created.status == 201, created.body
    group_id = created.body["id"]
    map_group(seed, group_id, role=Role.BILLING_MANAGER, seat=True)
    fetched = scim.get(f"/Groups/{group_id}?excludedAttributes=members")
    assert fetched.status == 200 and fetched.body["displayName"] == "Finance" and "members" not in fetched.body
    by_external = scim.get('/Groups?filter=externalId eq "0f1e-entra"&excludedAttributes=members')
    assert [g["id"] for g in by_external.body["Resources"]] == [group_id]
    assert "members" not in by_external.body["Resources"][0]
    added = scim.patch(
        f"/Groups/{group_id}", [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": ada}]}]
    )
    assert added.status == 200, added.body
    assert (
        scim.patch(
            f"/Groups/{group_id}", [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": cy}]}]
        ).status
        == 200
    )
    assert item(seed, ada).role == "billing_manager" and item(seed, ada).has_seat
    _, secret = tokens.issue_for(seed.org_id, admin_actor(seed.admin), ada, "ci")
    assert tokens.verify(secret)["active"]
    renamed = scim.patch(f"/Groups/{group_id}", [{"op": "Replace", "path": "displayName", "value": "Finance Team"}])
    assert renamed.status == 200 and renamed.body["displayName"] == "Finance Team"
    # Entra removes a member with a value list naming it, "$ref": null included.
    removed = scim.patch(
        f"/Groups/{group_id}", [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": ada}]}]
    )
    assert removed.status == 200, removed.body
    assert ids(scim.get(f"/Groups/{group_id}").body) == {cy}
    assert item(seed, ada).role == "member" and not item(seed, ada).has_seat
    assert not tokens.verify(secret)["active"]  # the seat went with the group, and the token with the seat
    assert item(seed, cy).role == "billing_manager"
    counters_exact(seed)
    assert scim.delete(f"/Groups/{group_id}").status == 204
    assert item(seed, cy).role == "member" and not item(seed, cy).has_seat
    counters_exact(seed)


def test_a_remove_by_value_list_takes_every_named_member_and_ignores_others(scim: Scim, seed: Seed) -> None:
    """The same shape with several values, display names and a stranger's id; on a built-in group too."""
    ada, cy, di = (user(scim, f"{n}@entra.example") for n in ("ada", "cy", "di"))
    group = new_group(scim, "Ops", [ada, cy, di])
    removed = scim.patch(
        f"/Groups/{group['id']}",
        [
            {
                "op": "remove",
                "path": "members",
                "value": [{"$ref": None, "value": ada, "display": "Ada"}, {"value": cy}, {"value": "acc_nobody"}],
            }
        ],
    )
    assert removed.status == 200, removed.body
    assert ids(scim.get(f"/Groups/{group['id']}").body) == {di}
    scim.patch("/Groups/seat-holders", [{"op": "add", "path": "members", "value": [{"value": ada}]}])
    assert item(seed, ada).has_seat
    off = scim.patch(
        "/Groups/seat-holders", [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": ada}]}]
    )
    assert off.status == 200, off.body
    assert not item(seed, ada).has_seat
    counters_exact(seed)


def new_group(scim: Scim, name: str, members: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members or []]}
    created = scim.post("/Groups", {**body, **extra})
    assert created.status == 201, created.body
    return dict(created.body)


def test_names_are_unique_per_org_in_any_case(api: Api, scim: Scim, seed: Seed) -> None:
    first = new_group(scim, "Engineering")
    again = scim.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "ENGINEERING"})
    assert again.status == 409 and again.body["scimType"] == "uniqueness"
    other = new_group(scim, "Sales")
    clash = scim.patch(f"/Groups/{other['id']}", [{"op": "replace", "path": "displayName", "value": "engineering"}])
    assert clash.status == 409 and clash.body["scimType"] == "uniqueness"
    assert scim.get(f"/Groups/{other['id']}").body["displayName"] == "Sales"
    # A rename frees the old name; a case-only rename of one's own name is fine.
    assert (
        scim.patch(f"/Groups/{first['id']}", [{"op": "replace", "path": "displayName", "value": "Eng"}]).status == 200
    )
    assert (
        scim.patch(f"/Groups/{other['id']}", [{"op": "replace", "path": "displayName", "value": "engineering"}]).status
        == 200
    )
    assert (
        scim.patch(f"/Groups/{first['id']}", [{"op": "replace", "path": "displayName", "value": "ENG"}]).status == 200
    )
    assert scim.post("/Groups", {"schemas": [GROUP_SCHEMA]}).status == 400
    # Another org may use the same name: names are per org.
    outsider = Scim(api, issue_scim_token(seed, seed.other_org_id)[1])
    assert outsider.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "ENG"}).status == 201


def test_filters_attributes_and_paging(scim: Scim, seed: Seed) -> None:
    a = user(scim, "a@corp.example")
    made = [new_group(scim, f"Team {n}", [a], externalId=f"ext-{n}") for n in range(5)]
    by_id = scim.get(f'/Groups?filter=id eq "{made[2]["id"]}"')
    assert [g["displayName"] for g in by_id.body["Resources"]] == ["Team 2"]
    by_ext = scim.get('/Groups?filter=externalId eq "ext-3"')
    assert [g["id"] for g in by_ext.body["Resources"]] == [made[3]["id"]]
    assert ids(by_ext.body["Resources"][0]) == {a}
    by_name = scim.get('/Groups?filter=displayName eq "team 4"&excludedAttributes=members')
    assert [g["id"] for g in by_name.body["Resources"]] == [made[4]["id"]]
    assert "members" not in by_name.body["Resources"][0]
    only_names = scim.get("/Groups?attributes=displayName")
    assert all(set(g) <= {"id", "displayName", "schemas"} for g in only_names.body["Resources"]), only_names.body
    one = scim.get(f"/Groups/{made[0]['id']}?excludedAttributes=members")
    assert one.status == 200 and "members" not in one.body and one.headers["ETag"] == one.body["meta"]["version"]
    # Built-in groups first, then pushed ones by name: 3 + 5, paged.
    everything = scim.get("/Groups?startIndex=1&count=100").body
    assert everything["totalResults"] == 8
    names = [g["displayName"] for g in everything["Resources"]]
    assert names[3:] == [f"Team {n}" for n in range(5)]
    page = scim.get("/Groups?startIndex=4&count=2").body
    assert page["totalResults"] == 8 and page["startIndex"] == 4 and page["itemsPerPage"] == 2
    assert [g["displayName"] for g in page["Resources"]] == ["Team 0", "Team 1"]
    searched = scim.post("/Groups/.search", {"filter": 'displayName sw "Team"', "startIndex": 5, "count": 10}).body
    assert searched["totalResults"] == 5 and [g["displayName"] for g in searched["Resources"]] == ["Team 4"]


def test_etags_and_if_match(scim: Scim, seed: Seed) -> None:
    a = user(scim, "a@corp.example")
    group = new_group(scim, "Ops")
    version = group["meta"]["version"]
    stale_free = scim.patch(
        f"/Groups/{group['id']}",
        [{"op": "add", "path": "members", "value": [{"value": a}]}],
        headers={"If-Match": version},
    )
    assert stale_free.status == 200 and stale_free.headers["ETag"] != version
    stale = scim.patch(f"/Groups/{group['id']}", [{"op": "remove", "path": "members"}], headers={"If-Match": version})
    assert stale.status == 412
    assert ids(scim.get(f"/Groups/{group['id']}").body) == {a}
    put_stale = scim.put(
        f"/Groups/{group['id']}", {"schemas": [GROUP_SCHEMA], "displayName": "Ops"}, headers={"If-Match": version}
    )
    assert put_stale.status == 412
    assert scim.delete(f"/Groups/{group['id']}", headers={"If-Match": version}).status == 412
    current = scim.get(f"/Groups/{group['id']}").headers["ETag"]
    assert scim.delete(f"/Groups/{group['id']}", headers={"If-Match": current}).status == 204


def test_patch_shapes_applied_in_order(scim: Scim, seed: Seed) -> None:
    a, b, c = (user(scim, f"{n}@work.example") for n in "abc")
    group = new_group(scim, "Design", [a])
    gid = group["id"]
    # Several operations, any letter case, applied in order: add b and c, drop a, then drop c again.
    done = scim.patch(
        f"/Groups/{gid}",
        [
            {"op": "ADD", "path": "members", "value": [{"value": b}, {"value": c}]},
            {"op": "remove", "path": f'members[value eq "{a}"]'},
            {"op": "Remove", "path": "members", "value": [{"value": c}]},
        ],
    )
    assert done.status == 200, done.body
    assert ids(done.body) == {b}
    # replace of members with a value array; a replace without path (Okta) and with path (Entra).
    replaced = scim.patch(
        f"/Groups/{gid}", [{"op": "replace", "path": "members", "value": [{"value": a}, {"value": c}]}]
    )
    assert replaced.status == 200 and ids(replaced.body) == {a, c}
    okta = scim.patch(f"/Groups/{gid}", [{"op": "replace", "value": {"id": gid, "displayName": "Design 2"}}])
    assert okta.status == 200 and okta.body["displayName"] == "Design 2" and ids(okta.body) == {a, c}
    entra = scim.patch(f"/Groups/{gid}", [{"op": "Replace", "path": "displayName", "value": "Design 3"}])
    assert entra.status == 200 and entra.body["displayName"] == "Design 3"
    external = scim.patch(f"/Groups/{gid}", [{"op": "replace", "path": "externalId", "value": "abc-123"}])
    assert external.status == 200 and external.body["externalId"] == "abc-123"
    # PUT replaces everything it names.
    put = scim.put(f"/Groups/{gid}", {"schemas": [GROUP_SCHEMA], "displayName": "Design", "members": [{"value": b}]})
    assert put.status == 200 and put.body["displayName"] == "Design" and ids(put.body) == {b}
    # An id that names nobody here (a user removed in the service, still in the IdP's group) is
    # skipped: the others in the same operation join, and the audit record names the skipped id.
    stale = [{"value": "acc_nobody"}, {"value": a}]
    unknown = scim.patch(f"/Groups/{gid}", [{"op": "add", "path": "members", "value": stale}])
    assert unknown.status == 200 and ids(unknown.body) == {a, b}, unknown.body
    assert ids(scim.get(f"/Groups/{gid}").body) == {a, b}
    record = max((e for e in AuditModel.query(seed.org_id) if e.target == gid), key=lambda e: e.sk)
    assert record.details["added"] == [a] and record.details["skipped_unknown"] == ["acc_nobody"]
    only_stale = scim.patch(f"/Groups/{gid}", [{"op": "replace", "path": "members", "value": [{"value": "acc_x"}]}])
    assert only_stale.status == 200 and ids(only_stale.body) == set()
    put = scim.put(f"/Groups/{gid}", {"schemas": [GROUP_SCHEMA], "displayName": "Design", "members": [{"value": b}]})
    assert put.status == 200 and ids(put.body) == {b}
    assert scim.get("/Groups/grp_nothing").status == 404
    assert scim.patch("/Groups/grp_nothing", [{"op": "remove", "path": "members"}]).status == 404


def test_highest_role_wins_and_hand_set_roles_stay(scim: Scim, seed: Seed) -> None:
    x = user(scim, "x@corp.example")
    admins = new_group(scim, "Admins")
    billing = new_group(scim, "Billing")
    plain = new_group(scim, "Everyone")
    map_group(seed, admins["id"], role=Role.ACCOUNT_ADMIN)
    map_group(seed, billing["id"], role=Role.BILLING_MANAGER)
    add = [{"op": "add", "path": "members", "value": [{"value": x}]}]
    assert scim.patch(f"/Groups/{billing['id']}", add).status == 200
    assert item(seed, x).role == "billing_manager"
    assert scim.patch(f"/Groups/{admins['id']}", add).status == 200
    assert item(seed, x).role == "account_admin"
    remove = [{"op": "remove", "path": f'members[value eq "{x}"]'}]
    assert scim.patch(f"/Groups/{admins['id']}", remove).status == 200
    assert item(seed, x).role == "billing_manager"
    assert scim.patch(f"/Groups/{billing['id']}", remove).status == 200
    assert item(seed, x).role == "member"
    # A member in no role-granting group keeps a role set by hand; an unmapped group changes nothing.
    members.change_role(seed.org_id, admin_actor(seed.admin), seed.billing.account_id, Role.BILLING_MANAGER)
    joined = scim.patch(
        f"/Groups/{plain['id']}", [{"op": "add", "path": "members", "value": [{"value": seed.billing.account_id}]}]
    )
    assert joined.status == 200 and item(seed, seed.billing.account_id).role == "billing_manager"
    counters_exact(seed)


def test_a_seat_is_held_while_any_seat_group_holds_the_member(scim: Scim, seed: Seed) -> None:
    x = user(scim, "x@corp.example")
    one, two = new_group(scim, "Seats A"), new_group(scim, "Seats B")
    map_group(seed, one["id"], seat=True)
    map_group(seed, two["id"], seat=True)
    add = [{"op": "add", "path": "members", "value": [{"value": x}]}]
    remove = [{"op": "remove", "path": f'members[value eq "{x}"]'}]
    assert scim.patch(f"/Groups/{one['id']}", add).status == 200
    assert scim.patch(f"/Groups/{two['id']}", add).status == 200
    assert item(seed, x).has_seat
    generation = item(seed, x).seat_generation
    assert scim.patch(f"/Groups/{one['id']}", remove).status == 200
    assert item(seed, x).has_seat and item(seed, x).seat_generation == generation
    assert scim.patch(f"/Groups/{two['id']}", remove).status == 200
    assert not item(seed, x).has_seat and item(seed, x).seat_generation == generation + 1
    assert scim.get(f"/Users/{x}").body["active"] is False
    counters_exact(seed)


def test_a_pushed_change_the_org_cannot_take_changes_nothing(scim: Scim, seed: Seed) -> None:
    a, b = user(scim, "a@corp.example"), user(scim, "b@corp.example")
    group = new_group(scim, "Licensed")
    map_group(seed, group["id"], seat=True)
    org = counters_exact(seed)
    OrgModel(seed.org_id).update(actions=[OrgModel.seat_capacity.set(org.seats_used + 1)])
    before = scim.get(f"/Groups/{group['id']}")
    refused = scim.patch(
        f"/Groups/{group['id']}", [{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]
    )
    assert refused.status == 400 and "out of seats" in refused.body["detail"], refused.body
    assert "a@corp.example" in refused.body["detail"] and "b@corp.example" in refused.body["detail"]
    after = scim.get(f"/Groups/{group['id']}")
    assert after.body == before.body and after.headers["ETag"] == before.headers["ETag"]
    assert not item(seed, a).has_seat and not item(seed, b).has_seat
    assert not item(seed, a).group_ids and not item(seed, b).group_ids
    counters_exact(seed)
    # Deleting the group that makes the only admin one would leave none: refused, nothing changes.
    admins = new_group(scim, "Owners", [seed.admin.account_id])
    map_group(seed, admins["id"], role=Role.ACCOUNT_ADMIN)
    members.change_role(seed.org_id, admin_actor(seed.admin), seed.member.account_id, Role.MEMBER)
    gone = scim.delete(f"/Groups/{admins['id']}")
    assert gone.status == 409 and seed.admin.email in gone.body["detail"], gone.body
    assert scim.get(f"/Groups/{admins['id']}").status == 200
    assert item(seed, seed.admin.account_id).role == "account_admin"
    counters_exact(seed)


def test_a_member_removed_from_the_org_leaves_its_groups(scim: Scim, seed: Seed) -> None:
    a = user(scim, "a@corp.example")
    group = new_group(scim, "Temp", [a])
    assert scim.delete(f"/Users/{a}").status == 204
    assert ids(scim.get(f"/Groups/{group['id']}").body) == set()
    again = user(scim, "a@corp.example")
    assert again == a  # the same account rejoins, without its old groups
    assert ids(scim.get(f"/Groups/{group['id']}").body) == set()


def _groups_calls(group_id: str, member_id: str) -> list[tuple[str, str, Any]]:
    """Every Groups route of the SCIM router, each with a body that would change the group."""
    from chalicelib.scim.routes import ROUTES as SCIM_ROUTES

    bodies: dict[str, Any] = {
        "POST /Groups": {"schemas": [GROUP_SCHEMA], "displayName": "Taken over"},
        "POST /Groups/.search": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]},
        "PUT /Groups/{group_id}": {"schemas": [GROUP_SCHEMA], "displayName": "Mine", "members": []},
        "PATCH /Groups/{group_id}": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": "members", "value": [{"value": member_id}]}],
        },
    }
    calls = []
    for path, methods, _ in SCIM_ROUTES:
        if not path.startswith("/Groups"):
            continue
        for method in methods:
            calls.append((method, path.replace("{group_id}", group_id), bodies.get(f"{method} {path}")))
    assert len(calls) == 7, calls  # list, create, search, get, replace, patch, delete
    return calls


def test_only_the_orgs_scim_token_touches_its_groups(api: Api, scim: Scim, seed: Seed) -> None:
    """The permission matrix of /scim/v2/Groups: no credential but the org's own live SCIM token opens it."""
    from tests.support.service_account_support import token_for
    from tests.support.table_scan import snapshot

    member_id = user(scim, "kept@acme.test", active=True)
    group = new_group(scim, "Private", [member_id])
    map_group(seed, group["id"], seat=True)
    revoked_id, revoked_secret = issue_scim_token(seed)
    scim_tokens.revoke(seed.org_id, admin_actor(seed.admin), revoked_id)
    seats.assign(seed.org_id, admin_actor(seed.admin), seed.member.account_id, notify=False)
    _, access_token = tokens.issue_for(seed.org_id, admin_actor(seed.admin), seed.member.account_id, "ci")
    _, service_token = token_for(api, seed.org_id, seed.admin.key, ["members:write", "seats:write"])
    refused = {  # caller -> the status every Groups call gets
        "anonymous": ("", 401),
        "forged SCIM token": ("osc_" + "x" * 43, 401),
        "revoked SCIM token": (revoked_secret, 401),
        "admin API key": (seed.admin.key, 401),
        "member API key": (seed.member.key, 401),
        "org access token": (access_token, 401),
        "service account token": (service_token, 401),
    }
    before = snapshot()
    for caller, (secret, status) in refused.items():
        for method, path, body in _groups_calls(group["id"], member_id):
            answer = Scim(api, secret).call(method, path, body)
            assert answer.status == status, (caller, method, path, answer.status, answer.body)
            assert "Private" not in json.dumps(answer.body), (caller, method, path)
    assert snapshot() == before  # nothing changed, no audit record either

    outsider = Scim(api, issue_scim_token(seed, seed.other_org_id)[1])
    for method, path, body in _groups_calls(group["id"], member_id):
        answer = outsider.call(method, path, body)
        if path == f"/Groups/{group['id']}":  # our group is not theirs to see or change
            assert answer.status == 404, (method, path, answer.body)
        # (their list and search are of their own org's groups; their POST creates a group in their org)
        assert "Private" not in json.dumps(answer.body), (method, path)
    assert scim.get(f"/Groups/{group['id']}").body["displayName"] == "Private"
    assert ids(scim.get(f"/Groups/{group['id']}").body) == {member_id} and item(seed, member_id).has_seat
    counters_exact(seed)


def test_resending_the_same_state_changes_nothing(scim: Scim, seed: Seed) -> None:
    """IdPs repeat themselves: adding a member again or removing a non-member is 200 and writes nothing."""
    a, b = user(scim, "a@corp.example"), user(scim, "b@corp.example")
    group = new_group(scim, "Repeat", [a])
    audit_before = sum(1 for _ in AuditModel.query(seed.org_id))
    again = scim.patch(f"/Groups/{group['id']}", [{"op": "add", "path": "members", "value": [{"value": a}]}])
    assert again.status == 200 and ids(again.body) == {a}
    absent = scim.patch(f"/Groups/{group['id']}", [{"op": "Remove", "path": "members", "value": [{"value": b}]}])
    assert absent.status == 200 and ids(absent.body) == {a}
    filtered = scim.patch(f"/Groups/{group['id']}", [{"op": "remove", "path": f'members[value eq "{b}"]'}])
    assert filtered.status == 200, filtered.body
    assert ids(filtered.body) == {a}
    assert again.headers["ETag"] == group["meta"]["version"] == filtered.headers["ETag"]
    assert sum(1 for _ in AuditModel.query(seed.org_id)) == audit_before


def test_every_group_change_is_audited_with_the_idp_as_actor(api: Api, seed: Seed) -> None:
    token_id, secret = issue_scim_token(seed)
    scim = Scim(api, secret)
    a = user(scim, "a@corp.example")
    group = new_group(scim, "Audited", [a])
    gid = group["id"]
    map_group(seed, gid, seat=True)
    scim.patch(f"/Groups/{gid}", [{"op": "replace", "path": "displayName", "value": "Audited 2"}])
    scim.put(f"/Groups/{gid}", {"schemas": [GROUP_SCHEMA], "displayName": "Audited 2", "members": []})
    scim.patch("/Groups/seat-holders", [{"op": "add", "path": "members", "value": [{"value": a}]}])
    scim.delete(f"/Groups/{gid}")
    entries = sorted(AuditModel.query(seed.org_id), key=lambda e: e.sk)
    about = [(e.action, e.actor) for e in entries if e.target in (gid, "seat-holders")]
    idp, admin = f"scim:{token_id}", f"account:{seed.admin.account_id}"
    assert about == [
        ("group.created", idp),
        ("group.mapping_set", admin),
        ("group.updated", idp),
        ("group.updated", idp),
        ("group.members_changed", idp),
        ("group.deleted", idp),
    ]
    created = next(e for e in entries if e.action == "group.created")
    assert created.details["display_name"] == "Audited" and created.details["added"] == [a]
    renamed = next(e for e in entries if e.action == "group.updated")
    assert renamed.details["display_name"] == "Audited 2"
    # The seat the mapping gave and the PUT took back: a record each, on the member.
    seat_events = [(e.action, e.actor) for e in entries if e.target == a and e.action.startswith("seat.")]
    assert seat_events == [("seat.assigned", admin), ("seat.revoked", idp), ("seat.assigned", idp)]
