"""SCIM Groups: the built-in role and seat groups and their rules (pushed groups: test_scim_pushed_groups.py)."""

from __future__ import annotations

import pytest

from chalicelib.services import members
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed, scim_seed
from tests.support.scim_helpers import Scim, issue_scim_token

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def seed(api: Api) -> Seed:
    """The seeded org with the SCIM test domains verified (SCIM create acts only on verified domains)."""
    return scim_seed(api)


@pytest.fixture
def scim(api: Api, seed: Seed) -> Scim:
    return Scim(api, issue_scim_token(seed)[1])


def role_of(seed: Seed, account_id: str) -> str:
    item = members.get_item(seed.org_id, account_id)
    assert item is not None
    return item.role


def has_seat(seed: Seed, account_id: str) -> bool:
    item = members.get_item(seed.org_id, account_id)
    return bool(item and item.has_seat)


def member_ids(body: dict[str, object]) -> set[str]:
    return {m["value"] for m in body.get("members", [])}  # type: ignore[attr-defined]


def test_list_get_and_filter(scim: Scim, seed: Seed) -> None:
    listed = scim.get("/Groups")
    assert listed.status == 200
    names = {g["displayName"]: g for g in listed.body["Resources"]}
    assert set(names) == {"Account Admins", "Billing Managers", "Seat Holders"}
    assert member_ids(names["Account Admins"]) == {seed.admin.account_id}
    assert member_ids(names["Billing Managers"]) == {seed.billing.account_id}

    found = scim.get('/Groups?filter=displayName eq "Seat Holders"&excludedAttributes=members')
    assert [g["id"] for g in found.body["Resources"]] == ["seat-holders"]
    assert "members" not in found.body["Resources"][0]

    one = scim.get("/Groups/billing-managers")
    assert one.status == 200 and one.headers["ETag"] == one.body["meta"]["version"]
    assert scim.get("/Groups/nope").status == 404
    bad = scim.get("/Groups?filter=displayName eq")
    assert bad.status == 400 and bad.body["scimType"] == "invalidFilter"


def test_admin_group_sets_and_removes_the_role(scim: Scim, seed: Seed) -> None:
    joined = scim.patch(
        "/Groups/account-admins",
        [{"op": "add", "path": "members", "value": [{"value": seed.member.account_id}]}],
    )
    assert joined.status == 200, joined.body
    assert member_ids(joined.body) == {seed.admin.account_id, seed.member.account_id}
    assert role_of(seed, seed.member.account_id) == "account_admin"

    left = scim.patch(
        "/Groups/account-admins", [{"op": "remove", "path": f'members[value eq "{seed.member.account_id}"]'}]
    )
    assert left.status == 200, left.body
    assert role_of(seed, seed.member.account_id) == "member"


def test_last_admin_cannot_leave_the_admin_group(scim: Scim, seed: Seed) -> None:
    response = scim.patch(
        "/Groups/account-admins", [{"op": "remove", "path": f'members[value eq "{seed.admin.account_id}"]'}]
    )
    assert response.status == 409 and "admin" in response.body["detail"]
    assert role_of(seed, seed.admin.account_id) == "account_admin"
    everyone = scim.patch("/Groups/account-admins", [{"op": "remove", "path": "members"}])
    assert everyone.status == 409
    assert role_of(seed, seed.admin.account_id) == "account_admin"


def test_replacing_the_admins_passes_through_no_empty_set(scim: Scim, seed: Seed) -> None:
    replaced = scim.put(
        "/Groups/account-admins",
        {"schemas": [GROUP_SCHEMA], "displayName": "Account Admins", "members": [{"value": seed.billing.account_id}]},
    )
    assert replaced.status == 200, replaced.body
    assert member_ids(replaced.body) == {seed.billing.account_id}
    assert role_of(seed, seed.admin.account_id) == "member"
    assert role_of(seed, seed.billing.account_id) == "account_admin"


def test_billing_group_entra_shapes(scim: Scim, seed: Seed) -> None:
    added = scim.patch(
        "/Groups/billing-managers",
        [{"op": "Add", "path": "members", "value": [{"value": seed.member.account_id}]}],
    )
    assert added.status == 200 and role_of(seed, seed.member.account_id) == "billing_manager"
    removed = scim.patch(
        "/Groups/billing-managers",
        [{"op": "Remove", "path": "members", "value": [{"value": seed.member.account_id}]}],
    )
    assert removed.status == 200, removed.body
    assert role_of(seed, seed.member.account_id) == "member"
    assert role_of(seed, seed.billing.account_id) == "billing_manager"


def test_seat_holders_assign_and_revoke_within_capacity(scim: Scim, seed: Seed) -> None:
    joined = scim.patch(
        "/Groups/seat-holders",
        [{"op": "add", "path": "members", "value": [{"value": seed.member.account_id}]}],
    )
    assert joined.status == 200 and has_seat(seed, seed.member.account_id)
    assert scim.get(f"/Users/{seed.member.account_id}").body["active"] is True
    org = OrgModel.get(seed.org_id, consistent_read=True)
    OrgModel(seed.org_id).update(actions=[OrgModel.seat_capacity.set(org.seats_used)])
    full = scim.patch(
        "/Groups/seat-holders",
        [{"op": "add", "path": "members", "value": [{"value": seed.billing.account_id}]}],
    )
    assert full.status == 400 and "out of seats" in full.body["detail"]
    assert not has_seat(seed, seed.billing.account_id)
    left = scim.patch(
        "/Groups/seat-holders", [{"op": "remove", "path": f'members[value eq "{seed.member.account_id}"]'}]
    )
    assert left.status == 200 and not has_seat(seed, seed.member.account_id)
    after = OrgModel.get(seed.org_id, consistent_read=True)
    assert after.seats_used == org.seats_used - 1


def test_built_in_groups_cannot_be_taken_renamed_or_deleted(scim: Scim) -> None:
    created = scim.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "seat holders"})
    assert created.status == 409 and created.body["scimType"] == "uniqueness"
    deleted = scim.delete("/Groups/seat-holders")
    assert deleted.status == 403 and "Built-in" in deleted.body["detail"]
    renamed = scim.patch("/Groups/seat-holders", [{"op": "replace", "path": "displayName", "value": "Seats"}])
    assert renamed.status == 400
    assert scim.get("/Groups/seat-holders").body["displayName"] == "Seat Holders"


def test_an_unknown_member_is_skipped_and_seats_nobody(scim: Scim, seed: Seed) -> None:
    """A stale id in a built-in group's PATCH is left out: 200, no seat moves for it."""
    seats_before = seat_counter_exact(seed)
    response = scim.patch(
        "/Groups/seat-holders", [{"op": "add", "path": "members", "value": [{"value": "acc_unknown"}]}]
    )
    assert response.status == 200, response.body
    assert "acc_unknown" not in {m["value"] for m in response.body.get("members", [])}
    assert seat_counter_exact(seed) == seats_before


def seat_counter_exact(seed: Seed) -> int:
    seated = sum(1 for m in MemberModel.query(seed.org_id, consistent_read=True) if m.has_seat)
    org = OrgModel.get(seed.org_id, consistent_read=True)
    assert org.seats_used == seated <= org.seat_capacity
    admins = sum(1 for m in MemberModel.query(seed.org_id, consistent_read=True) if m.role == "account_admin")
    assert org.admin_count == admins
    return seated


def test_a_seat_change_the_org_cannot_take_changes_nothing(scim: Scim, seed: Seed) -> None:
    """Two members join Seat Holders with one seat free: refused whole, naming both; no seat moves."""
    org = OrgModel.get(seed.org_id, consistent_read=True)
    OrgModel(seed.org_id).update(actions=[OrgModel.seat_capacity.set(org.seats_used + 1)])
    before = scim.get("/Groups/seat-holders")
    response = scim.patch(
        "/Groups/seat-holders",
        [
            {
                "op": "add",
                "path": "members",
                "value": [{"value": seed.member.account_id}, {"value": seed.billing.account_id}],
            }
        ],
    )
    assert response.status == 400, response.body
    assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "out of seats" in response.body["detail"]
    assert seed.member.email in response.body["detail"] and seed.billing.email in response.body["detail"]
    assert not has_seat(seed, seed.member.account_id) and not has_seat(seed, seed.billing.account_id)
    assert scim.get("/Groups/seat-holders").body == before.body
    assert seat_counter_exact(seed) == org.seats_used
    # With both seats free the same change is applied whole.
    OrgModel(seed.org_id).update(actions=[OrgModel.seat_capacity.set(org.seats_used + 2)])
    again = scim.patch(
        "/Groups/seat-holders",
        [
            {
                "op": "add",
                "path": "members",
                "value": [{"value": seed.member.account_id}, {"value": seed.billing.account_id}],
            }
        ],
    )
    assert again.status == 200, again.body
    assert has_seat(seed, seed.member.account_id) and has_seat(seed, seed.billing.account_id)
    assert seat_counter_exact(seed) == org.seats_used + 2


def test_emptying_the_admins_changes_nothing(scim: Scim, seed: Seed) -> None:
    """PUT account-admins with no members while there are two admins: 409, both stay admins."""
    promoted = scim.patch(
        "/Groups/account-admins", [{"op": "add", "path": "members", "value": [{"value": seed.member.account_id}]}]
    )
    assert promoted.status == 200
    response = scim.put(
        "/Groups/account-admins", {"schemas": [GROUP_SCHEMA], "displayName": "Account Admins", "members": []}
    )
    assert response.status == 409, response.body
    assert "admin" in response.body["detail"] and "Nothing was changed" in response.body["detail"]
    assert seed.admin.email in response.body["detail"] and seed.member.email in response.body["detail"]
    assert role_of(seed, seed.admin.account_id) == "account_admin"
    assert role_of(seed, seed.member.account_id) == "account_admin"
    seat_counter_exact(seed)
