"""SCIM Users: IdP flows (Okta, Entra ID), filters, ETags, seats, permissions, tokens."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from chalicelib.domain.models import Actor
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import accounts, members, tokens
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.orgs import OrgModel
from chalicelib.storage.tokens import TokenModel
from tests.support.helpers import Api, Seed, scim_seed
from tests.support.invitation_support import links_to, run_stream, stream_batch
from tests.support.scim_helpers import PATCH_OP, SCIM_JSON, USER_SCHEMA, Scim, issue_scim_token

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def seed(api: Api) -> Seed:
    """The seeded org with the SCIM test domains verified (SCIM create acts only on verified domains)."""
    return scim_seed(api)


@pytest.fixture
def scim(api: Api, seed: Seed) -> Scim:
    return Scim(api, issue_scim_token(seed)[1])


def seats_used(org_id: str) -> int:
    return int(OrgModel.get(org_id, consistent_read=True).seats_used)


def set_capacity(org_id: str, capacity: int) -> None:
    OrgModel(org_id).update(actions=[OrgModel.seat_capacity.set(capacity)])


# --- SCIM tokens (REST) --------------------------------------------------------


def test_admin_manages_scim_tokens_and_the_secret_is_shown_once(api: Api, seed: Seed) -> None:
    created = api.post(f"/v1/orgs/{seed.org_id}/scim-tokens", seed.admin.key, {"name": "Okta"})
    assert created.status == 201
    secret, token_id = created.body["secret"], created.body["token_id"]
    assert secret.startswith("osc_") and created.body["status"] == "active"
    listed = api.get(f"/v1/orgs/{seed.org_id}/scim-tokens", seed.admin.key)
    assert [t["token_id"] for t in listed.body["items"]] == [token_id]
    assert "secret" not in listed.body["items"][0]
    stored = [i.attribute_values for i in TokenModel.scan()]
    assert secret not in repr(stored)

    assert Scim(api, secret).get("/Users").status == 200
    assert api.delete(f"/v1/orgs/{seed.org_id}/scim-tokens/{token_id}", seed.admin.key).status == 204
    denied = Scim(api, secret).get("/Users")
    assert denied.status == 401
    assert denied.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    actions = {(a.action, a.target) for a in AuditModel.query(seed.org_id)}
    assert {("scim_token.created", token_id), ("scim_token.revoked", token_id)} <= actions


@pytest.mark.parametrize("role", ["billing_manager", "member"])
def test_only_admins_manage_scim_tokens(api: Api, seed: Seed, role: str) -> None:
    person = seed.by_role(role)
    assert api.post(f"/v1/orgs/{seed.org_id}/scim-tokens", person.key, {"name": "x"}).status == 403
    assert api.get(f"/v1/orgs/{seed.org_id}/scim-tokens", person.key).status == 403
    assert api.post(f"/v1/orgs/{seed.org_id}/scim-tokens", seed.outsider.key, {"name": "x"}).status == 404


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Bearer osc_" + "a" * 43, "api_key"])
def test_scim_needs_a_valid_scim_token(api: Api, seed: Seed, auth: str | None) -> None:
    headers = {"Authorization": f"Bearer {seed.admin.key}" if auth == "api_key" else auth} if auth else {}
    response = api.call("GET", "/scim/v2/Users", headers=headers)
    assert response.status == 401
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.body == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "401",
        "detail": "A valid SCIM token is required (Authorization: Bearer osc_...).",
    }


def test_rest_api_import_does_not_load_scim2_models() -> None:
    code = "import sys, app; assert 'scim2_models' not in sys.modules, 'scim2_models imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- Okta ----------------------------------------------------------------------


def test_okta_flow(scim: Scim, seed: Seed) -> None:
    probe = scim.get("/Users?startIndex=1&count=2")
    assert probe.status == 200 and probe.headers["Content-Type"] == SCIM_JSON
    assert probe.body["totalResults"] == 3 and probe.body["itemsPerPage"] == 2 and probe.body["startIndex"] == 1

    lookup = scim.get('/Users?filter=userName eq "ada@okta.example"&startIndex=1&count=100')
    assert lookup.status == 200 and lookup.body["totalResults"] == 0 and lookup.body.get("Resources", []) == []

    used = seats_used(seed.org_id)
    created = scim.create_user(
        "Ada@Okta.example",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"primary": True, "value": "ada@okta.example", "type": "work"}],
        displayName="Ada Lovelace",
        externalId="00u1",
    )
    assert created.status == 201, created.body
    user_id = created.body["id"]
    assert created.body["userName"] == "ada@okta.example" and created.body["active"] is True
    assert created.headers["Location"].endswith(f"/scim/v2/Users/{user_id}")
    assert created.headers["ETag"] == created.body["meta"]["version"]
    assert seats_used(seed.org_id) == used + 1
    found = scim.get('/Users?filter=userName eq "ada@okta.example"')
    assert [u["id"] for u in found.body["Resources"]] == [user_id]
    admin = Actor(actor=f"account:{seed.admin.account_id}", request_id="okta", account_id=seed.admin.account_id)
    _, secret = tokens.issue_for(seed.org_id, admin, user_id, "laptop")
    assert tokens.verify(secret)["active"] is True

    deactivated = scim.patch(f"/Users/{user_id}", [{"op": "replace", "value": {"active": False}}])
    assert deactivated.status == 200 and deactivated.body["active"] is False
    assert seats_used(seed.org_id) == used
    item = members.get_item(seed.org_id, user_id)
    assert item is not None and not item.has_seat and item.seat_generation == 1
    # The deactivated user's token is dead at once, before any stream handler runs.
    assert tokens.verify(secret) == {"active": False}
    assert scim.get(f"/Users/{user_id}").body["active"] is False

    reactivated = scim.patch(f"/Users/{user_id}", [{"op": "replace", "value": {"active": True}}])
    assert reactivated.status == 200 and reactivated.body["active"] is True
    assert seats_used(seed.org_id) == used + 1
    assert tokens.verify(secret) == {"active": False}  # a new seat never revives an old token
    audit = [a for a in AuditModel.query(seed.org_id) if a.target == user_id and a.actor.startswith("scim:")]
    assert {a.action for a in audit} >= {"member.added", "seat.assigned", "seat.revoked"}
    assert {a.actor for a in audit} == {f"scim:{scim_token_id(seed)}"}


def scim_token_id(seed: Seed) -> str:
    return next(iter(TokenModel.by_owner.query(f"org#{seed.org_id}#scim"))).token_id


# --- Entra ID ------------------------------------------------------------------


def test_entra_flow(scim: Scim, seed: Seed) -> None:
    missing = scim.get('/Users?filter=externalId eq "8f1c"')
    assert missing.body["totalResults"] == 0
    created = scim.post(
        "/Users",
        {
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "8f1c",
            "userName": "Grace@Entra.example",
            "active": True,
            "displayName": "Grace Hopper",
            "emails": [{"primary": True, "type": "work", "value": "grace@entra.example"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Navy"},
        },
        headers={"Content-Type": "application/json"},
    )
    assert created.status == 201, created.body
    user_id = created.body["id"]
    assert scim.get('/Users?filter=externalId eq "8f1c"').body["Resources"][0]["id"] == user_id

    updated = scim.patch(
        f"/Users/{user_id}",
        [
            {"op": "Replace", "path": "displayName", "value": "Rear Admiral Hopper"},
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "grace.hopper@entra.example"},
            {"op": "Replace", "path": "name.givenName", "value": "Amazing Grace"},
            {"op": "Replace", "path": "externalId", "value": "8f1d"},
        ],
    )
    assert updated.status == 200, updated.body
    body = updated.body
    assert body["displayName"] == "Rear Admiral Hopper" and body["externalId"] == "8f1d"
    assert body["emails"] == [{"primary": True, "type": "work", "value": "grace.hopper@entra.example"}]
    assert body["name"]["givenName"] == "Amazing Grace" and body["userName"] == "grace@entra.example"

    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    tolerated = scim.patch(
        f"/Users/{user_id}",
        [
            {"op": "Add", "path": f"{enterprise}:department", "value": "Research"},
            {"op": "Replace", "path": 'phoneNumbers[type eq "work"].value', "value": "+1 555 0100"},
            {"op": "Remove", "path": "emails", "value": [{"value": "grace.hopper@entra.example"}]},
        ],
    )
    assert tolerated.status == 200, tolerated.body
    assert "emails" not in tolerated.body and enterprise not in tolerated.body
    again = scim.patch(
        f"/Users/{user_id}",
        [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "grace@entra.example"}],
    )
    assert again.status == 200 and again.body["emails"] == [{"type": "work", "value": "grace@entra.example"}]

    off = scim.patch(f"/Users/{user_id}", [{"op": "Replace", "path": "active", "value": "False"}])
    assert off.status == 200 and off.body["active"] is False
    on = scim.patch(f"/Users/{user_id}", [{"op": "replace", "value": {"active": "True"}}])
    assert on.status == 200 and on.body["active"] is True

    assert scim.delete(f"/Users/{user_id}").status == 204
    gone = scim.get(f"/Users/{user_id}")
    assert gone.status == 404 and gone.body["status"] == "404"
    assert members.get_item(seed.org_id, user_id) is None


# --- filters -------------------------------------------------------------------

PEOPLE = [
    {"userName": "alice@corp.example", "externalId": "e1", "displayName": "Alice A", "active": True},
    {"userName": "bob@corp.example", "externalId": "e2", "displayName": "Bob B", "active": False},
    {"userName": "carol@other.example", "displayName": "Carol C", "active": True,
     "emails": [{"value": "carol@work.example", "type": "work", "primary": True}]},
]  # fmt: skip
SEEDED = {"admin@acme.test", "billing@acme.test", "member@acme.test"}
CORP = {"alice@corp.example", "bob@corp.example"}

FILTERS = [
    ('userName eq "alice@corp.example"', {"alice@corp.example"}),
    ('userName eq "ALICE@corp.example"', {"alice@corp.example"}),
    ('username EQ "bob@corp.example"', {"bob@corp.example"}),
    ('userName ne "alice@corp.example" and userName co "corp"', {"bob@corp.example"}),
    ('userName co "corp.example"', CORP),
    ('userName sw "carol"', {"carol@other.example"}),
    ('userName sw "a"', {"alice@corp.example", "admin@acme.test"}),
    ("externalId pr", CORP),
    ('externalId eq "e2"', {"bob@corp.example"}),
    ('emails.value eq "carol@work.example"', {"carol@other.example"}),
    ('emails[type eq "work" and value co "work.example"]', {"carol@other.example"}),
    ("active eq false and externalId pr", {"bob@corp.example"}),
    ('active eq true and (userName sw "alice" or userName sw "carol")', {"alice@corp.example", "carol@other.example"}),
    ('not (userName co "corp") and displayName pr', {"carol@other.example"}),
    ('displayName eq "Bob B" or externalId eq "e1"', CORP),
    ('userName eq "nobody@corp.example"', set()),
    ("emails pr", {"carol@other.example"}),
    ('not (userName ew ".example")', SEEDED),
    ('userName eq "alice@corp.example" and active eq false', set()),
]


@pytest.fixture
def people(scim: Scim) -> None:
    for person in PEOPLE:
        response = scim.post("/Users", {"schemas": [USER_SCHEMA], **person})
        assert response.status == 201, response.body


@pytest.mark.parametrize(("expression", "expected"), FILTERS)
def test_filters(scim: Scim, people: None, expression: str, expected: set[str]) -> None:
    response = scim.get(f"/Users?filter={expression}")
    assert response.status == 200, response.body
    assert {u["userName"] for u in response.body.get("Resources", [])} == expected
    assert response.body["totalResults"] == len(expected)


def test_every_seeded_person_is_a_user(scim: Scim, people: None) -> None:
    listed = scim.get("/Users?count=50")
    assert {u["userName"] for u in listed.body["Resources"]} == SEEDED | CORP | {"carol@other.example"}


@pytest.mark.parametrize(
    "expression",
    ['userName eq "x', "userName eq", "(userName pr", 'userName zz "x"', 'active gt true', "userName eq alice",
     "and", 'emails[type eq "work"', "userName pr or"],
)  # fmt: skip
def test_bad_filters_answer_invalid_filter(scim: Scim, expression: str) -> None:
    response = scim.get(f"/Users?filter={expression}")
    assert response.status == 400, response.body
    assert response.body["scimType"] == "invalidFilter" and response.body["status"] == "400"


def test_paging_is_one_based_with_total(scim: Scim, people: None) -> None:
    first = scim.get('/Users?filter=userName co "corp"&startIndex=1&count=1')
    second = scim.get('/Users?filter=userName co "corp"&startIndex=2&count=1')
    beyond = scim.get('/Users?filter=userName co "corp"&startIndex=3&count=1')
    assert first.body["totalResults"] == second.body["totalResults"] == 2
    names = {first.body["Resources"][0]["userName"], second.body["Resources"][0]["userName"]}
    assert names == CORP and second.body["startIndex"] == 2
    assert beyond.body["itemsPerPage"] == 0
    assert scim.get("/Users?count=0").body["itemsPerPage"] == 0
    assert scim.get("/Users?count=abc").status == 400


def test_attributes_and_excluded_attributes(scim: Scim, people: None) -> None:
    only = scim.get('/Users?filter=userName eq "alice@corp.example"&attributes=displayName')
    assert set(only.body["Resources"][0]) == {"schemas", "id", "displayName"}
    without = scim.get('/Users?filter=userName eq "alice@corp.example"&excludedAttributes=displayName,externalId')
    assert "displayName" not in without.body["Resources"][0] and "userName" in without.body["Resources"][0]


def test_user_name_eq_is_one_query(scim: Scim, people: None, dynamodb_calls: Counter[str]) -> None:
    response = scim.get('/Users?filter=userName eq "bob@corp.example"')
    assert response.body["totalResults"] == 1
    assert dynamodb_calls == Counter({"Query": 1, "GetItem": 2})  # the query; the SCIM token and its maker


# --- writes and rules ----------------------------------------------------------


def test_duplicate_user_is_a_uniqueness_conflict(scim: Scim) -> None:
    response = scim.create_user("member@acme.test")
    assert response.status == 409 and response.body["scimType"] == "uniqueness"


def test_user_name_must_be_an_email_and_cannot_change(scim: Scim) -> None:
    bad = scim.create_user("not-an-email")
    assert bad.status == 400 and bad.body["scimType"] == "invalidValue"
    user_id = scim.create_user("dora@corp.example").body["id"]
    renamed = scim.patch(f"/Users/{user_id}", [{"op": "replace", "path": "userName", "value": "x@corp.example"}])
    assert renamed.status == 400 and renamed.body["scimType"] == "mutability"
    same = scim.patch(f"/Users/{user_id}", [{"op": "replace", "path": "userName", "value": "DORA@corp.example"}])
    assert same.status == 200


def test_bad_bodies_are_scim_errors(scim: Scim, api: Api) -> None:
    broken = scim.call("POST", "/Users", headers={})
    assert broken.status == 400 and broken.body["scimType"] == "invalidSyntax"
    raw = api.call("POST", "/scim/v2/Users", scim.token, body="{nope", headers={"Content-Type": SCIM_JSON})
    assert raw.status == 400 and raw.body["scimType"] == "invalidSyntax"
    user_id = scim.create_user("hank@corp.example").body["id"]
    bad_patch = scim.patch(f"/Users/{user_id}", [{"op": "explode", "path": "active", "value": True}])
    assert bad_patch.status == 400 and bad_patch.body["scimType"] == "invalidValue"
    no_operations = scim.call("PATCH", f"/Users/{user_id}", {"schemas": [PATCH_OP]})
    assert no_operations.status == 400 and no_operations.body["schemas"] == [ERROR_SCHEMA]
    plain = api.call("POST", "/scim/v2/Users", scim.token, body="userName=x", headers={"Content-Type": "text/plain"})
    assert plain.status == 415
    assert scim.get(f"/Users/{user_id}").body["active"] is True


def test_search_endpoints(scim: Scim, people: None) -> None:
    found = scim.post("/Users/.search", {"filter": 'userName sw "alice"', "attributes": ["userName"], "count": 5})
    assert found.status == 200
    assert found.body["Resources"] == [
        {"schemas": [USER_SCHEMA], "id": found.body["Resources"][0]["id"], "userName": "alice@corp.example"}
    ]
    everything = scim.post("/.search", {"filter": 'displayName eq "Seat Holders" or userName eq "bob@corp.example"'})
    assert everything.status == 200
    assert {r.get("userName") or r["displayName"] for r in everything.body["Resources"]} == {
        "Seat Holders",
        "bob@corp.example",
    }
    groups = scim.post("/Groups/.search", {"filter": 'displayName sw "B"'})
    assert [g["displayName"] for g in groups.body["Resources"]] == ["Billing Managers"]


def test_put_replaces_and_keeps_the_seat_when_active_is_absent(scim: Scim, seed: Seed) -> None:
    user = scim.create_user("erin@corp.example", displayName="Erin", externalId="x1").body
    replaced = scim.put(
        f"/Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "erin@corp.example", "name": {"givenName": "E"}}
    )
    assert replaced.status == 200, replaced.body
    assert replaced.body["active"] is True and "displayName" not in replaced.body and "externalId" not in replaced.body
    assert replaced.body["name"] == {"givenName": "E"}


def test_if_match(scim: Scim) -> None:
    user = scim.create_user("finn@corp.example").body
    etag = scim.get(f"/Users/{user['id']}").headers["ETag"]
    rename = [{"op": "replace", "path": "displayName", "value": "F"}]
    stale = scim.patch(f"/Users/{user['id']}", rename, headers={"If-Match": 'W/"old"'})
    assert stale.status == 412 and stale.body["status"] == "412"
    fresh = scim.patch(f"/Users/{user['id']}", rename, headers={"If-Match": etag})
    assert fresh.status == 200 and fresh.headers["ETag"] != etag
    assert scim.delete(f"/Users/{user['id']}", headers={"If-Match": etag}).status == 412


def test_out_of_seats(scim: Scim, seed: Seed) -> None:
    set_capacity(seed.org_id, seats_used(seed.org_id))
    created = scim.create_user("gina@corp.example")
    assert created.status == 201 and created.body["active"] is False
    refused = scim.patch(f"/Users/{created.body['id']}", [{"op": "replace", "path": "active", "value": True}])
    assert refused.status == 400 and "out of seats" in refused.body["detail"] and "scimType" not in refused.body
    assert scim.get(f"/Users/{created.body['id']}").body["active"] is False
    org = OrgModel.get(seed.org_id, consistent_read=True)
    assert org.seats_used == org.seat_capacity


def test_last_admin_cannot_be_deleted(scim: Scim, seed: Seed) -> None:
    response = scim.delete(f"/Users/{seed.admin.account_id}")
    assert response.status == 409 and "admin" in response.body["detail"]
    assert members.get_item(seed.org_id, seed.admin.account_id) is not None


def test_a_token_of_one_org_never_touches_another(api: Api, seed: Seed, scim: Scim) -> None:
    other = Scim(api, issue_scim_token(seed, seed.other_org_id)[1])
    outsider = seed.outsider.account_id
    assert scim.get(f"/Users/{outsider}").status == 404
    assert scim.patch(f"/Users/{outsider}", [{"op": "replace", "path": "active", "value": False}]).status == 404
    assert scim.put(f"/Users/{outsider}", {"schemas": [USER_SCHEMA], "userName": "boss@globex.test"}).status == 404
    assert scim.delete(f"/Users/{outsider}").status == 404
    assert scim.get('/Users?filter=userName eq "boss@globex.test"').body["totalResults"] == 0
    joined = scim.patch("/Groups/seat-holders", [{"op": "add", "path": "members", "value": [{"value": outsider}]}])
    assert joined.status == 200  # another org's member names nobody here: skipped, seats nobody
    assert outsider not in {m["value"] for m in joined.body.get("members", [])}
    assert members.get_item(seed.org_id, outsider) is None
    assert {u["userName"] for u in other.get("/Users").body["Resources"]} == {"boss@globex.test"}
    assert other.get(f"/Users/{seed.member.account_id}").status == 404
    assert members.get_item(seed.other_org_id, outsider) is not None


# --- the real engine -----------------------------------------------------------


def test_okta_flow_and_one_query_lookup_on_dynamodb_local(local_tables: str, dynamodb_calls: Counter[str]) -> None:
    """The same flow on DynamoDB Local: LSI consistent reads, transactions, the query count."""
    api = Api()
    seed = scim_seed(api)
    scim = Scim(api, issue_scim_token(seed)[1])
    test_okta_flow(scim, seed)
    dynamodb_calls.clear()
    found = scim.get('/Users?filter=userName eq "ada@okta.example"')
    assert found.body["totalResults"] == 1
    assert dynamodb_calls == Counter({"Query": 1, "GetItem": 2})  # the SCIM token and its maker's membership


# --- oversized input ---------------------------------------------------------------


def test_an_oversized_profile_is_refused_before_the_seat_changes(scim: Scim, seed: Seed) -> None:
    user_id = scim.create_user("big@acme.test").body["id"]
    used = seats_used(seed.org_id)
    huge = {"schemas": [USER_SCHEMA], "userName": "big@acme.test", "active": False, "displayName": "x" * 450_000}
    r = scim.put(f"/Users/{user_id}", huge)
    assert r.status == 400 and r.body["scimType"] == "invalidValue", r.body
    assert seats_used(seed.org_id) == used and scim.get(f"/Users/{user_id}").body["active"] is True
    created = scim.create_user("bigger@acme.test", displayName="y" * 5_000)
    assert (
        created.status == 400 and members.list_members(seed.org_id, admin_of(seed), email_prefix="bigger").items == []
    )


def test_overlong_ids_and_filter_values_are_not_found_on_the_real_engine(local_tables: str) -> None:
    """DynamoDB refuses keys over 1 KB; such values cannot name anything of ours."""
    api = Api()
    seed = scim_seed(api)
    scim = Scim(api, issue_scim_token(seed)[1])
    long_name = "a" * 1500 + "@x.test"
    for query in (f'userName eq "{long_name}"', f'userName sw "{"a" * 1500}"'):
        r = scim.get(f"/Users?filter={query}")
        assert r.status == 200 and r.body["totalResults"] == 0, r.body
    assert scim.get("/Users/acc_" + "x" * 1500).status == 404
    add = {"op": "add", "path": "members", "value": [{"value": "acc_" + "x" * 1500}]}
    skipped = scim.patch("/Groups/seat-holders", [add])  # no such member: skipped, no key too long sent
    assert skipped.status == 200 and "acc_" + "x" * 1500 not in str(skipped.body)


def admin_of(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="t", account_id=seed.admin.account_id)


# --- names: one org's IdP cannot name a person for every org (finding 9) -----------


def test_an_orgs_scim_name_stays_on_its_membership(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    """Globex provisions a new email with its own text as the name; Acme, joined later, never shows it."""
    globex = Scim(api, issue_scim_token(seed, seed.other_org_id)[1])
    lure = "IT desk: your mailbox is full, sign in at evil.example"
    email = "newhire@globex.test"  # on Globex's verified domain: SCIM creates the account
    created = globex.create_user(email, displayName=lure)
    assert created.status == 201 and created.body["displayName"] == lure, created.body
    account_id = created.body["id"]
    # Globex's own views keep its name for the person.
    assert globex.get(f"/Users/{account_id}").body["displayName"] == lure
    theirs = api.get(f"/v1/orgs/{seed.other_org_id}/members/{account_id}", seed.outsider.key)
    assert theirs.status == 200 and theirs.body["name"] == lure, theirs.body

    # Acme invites the same address; the person accepts and joins Acme.
    invited = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": [email]})
    assert invited.status == 200, invited.body
    run_stream(stream_batch(seed.org_id))
    assert api.post(f"/v1/invitations/{links_to(mailer, email)[-1]}/accept").status == 200
    ours = api.get(f"/v1/orgs/{seed.org_id}/members/{account_id}", seed.admin.key)
    assert ours.status == 200 and ours.body["name"] != lure, ours.body
    listed = api.get(f"/v1/orgs/{seed.org_id}/members", seed.admin.key)
    assert lure not in repr(listed.body)
    assert accounts.find_by_email(email) is not None
    assert accounts.find_by_email(email).name is None  # type: ignore[union-attr]
