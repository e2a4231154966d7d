"""The admin's JSON API for what SCIM groups grant: list, put by id or displayName, delete."""

from __future__ import annotations

import pytest

from chalicelib.storage.audit import AuditModel
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed, scim_seed
from tests.support.scim_helpers import Scim, issue_scim_token

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def seed(api: Api) -> Seed:
    return scim_seed(api)


@pytest.fixture
def scim(api: Api, seed: Seed) -> Scim:
    return Scim(api, issue_scim_token(seed)[1])


def path(seed: Seed) -> str:
    return f"/v1/orgs/{seed.org_id}/scim/group-mappings"


def seated(seed: Seed, account_id: str) -> bool:
    return bool(MemberModel.get(seed.org_id, account_id, consistent_read=True).has_seat)


def test_map_by_name_grants_now_and_unmapping_takes_it_back(api: Api, scim: Scim, seed: Seed) -> None:
    a = scim.create_user("a@corp.example", active=False).body["id"]
    group = scim.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Support", "members": [{"value": a}]})
    assert group.status == 201
    listed = api.get(path(seed), seed.admin.key)
    assert listed.status == 200
    by_id = {m["group_id"]: m for m in listed.body["items"]}
    assert by_id["seat-holders"] == {**by_id["seat-holders"], "built_in": True, "seat": True, "role": None}
    assert by_id[group.body["id"]]["seat"] is False and by_id[group.body["id"]]["built_in"] is False

    mapped = api.put(path(seed), seed.admin.key, {"group": "support", "role": "billing_manager", "seat": True})
    assert mapped.status == 200, mapped.body
    assert mapped.body["group_id"] == group.body["id"] and mapped.body["role"] == "billing_manager"
    member = MemberModel.get(seed.org_id, a, consistent_read=True)
    assert member.has_seat and member.role == "billing_manager"

    removed = api.delete(f"{path(seed)}/{group.body['id']}", seed.admin.key)
    assert removed.status == 204
    member = MemberModel.get(seed.org_id, a, consistent_read=True)
    assert not member.has_seat and member.role == "member"
    actions = [e.action for e in AuditModel.query(seed.org_id) if e.target == group.body["id"]]
    assert {"group.mapping_set", "group.mapping_removed"} <= set(actions)
    admin_actor = f"account:{seed.admin.account_id}"
    assert {e.actor for e in AuditModel.query(seed.org_id) if e.action.startswith("group.mapping")} == {admin_actor}


def test_a_mapping_the_org_cannot_take_changes_nothing(api: Api, scim: Scim, seed: Seed) -> None:
    a = scim.create_user("a@corp.example", active=False).body["id"]
    b = scim.create_user("b@corp.example", active=False).body["id"]
    group = scim.post(
        "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Big", "members": [{"value": a}, {"value": b}]}
    ).body
    org = OrgModel.get(seed.org_id, consistent_read=True)
    OrgModel(seed.org_id).update(actions=[OrgModel.seat_capacity.set(org.seats_used + 1)])
    refused = api.put(path(seed), seed.admin.key, {"group": group["id"], "seat": True})
    assert refused.status == 402 and refused.code == "seat_limit_reached", refused.body
    assert "a@corp.example" in refused.body["error"]["message"]
    assert not seated(seed, a) and not seated(seed, b)
    listed = {m["group_id"]: m for m in api.get(path(seed), seed.admin.key).body["items"]}
    assert listed[group["id"]]["seat"] is False
    assert OrgModel.get(seed.org_id, consistent_read=True).seats_used == org.seats_used


def test_bad_targets(api: Api, seed: Seed) -> None:
    built_in = api.put(path(seed), seed.admin.key, {"group": "Seat Holders", "seat": False})
    assert built_in.status == 400 and built_in.code == "invalid_request"
    assert api.put(path(seed), seed.admin.key, {"group": "account-admins", "seat": True}).status == 400
    assert api.put(path(seed), seed.admin.key, {"group": "nobody", "seat": True}).code == "not_found"
    assert api.delete(f"{path(seed)}/grp_nothing", seed.admin.key).code == "not_found"
    assert api.put(path(seed), seed.admin.key, {"group": "x", "role": "owner"}).status == 400
