"""GET /v1/me and personal API keys: memberships, secrets shown once, revocation."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from chalicelib.clock import set_clock
from chalicelib.config import get_settings
from chalicelib.domain.roles import Role
from chalicelib.mail.base import MemoryMailer
from chalicelib.secrets import new_secret
from chalicelib.services import invitation_links, keys
from chalicelib.storage.invitations import InvitationModel
from chalicelib.storage.orgs import OrgModel
from tests.support.console_support import Browser, sign_in
from tests.support.helpers import Api, Person, Seed
from tests.support.permission_table import new_person


def test_me_lists_every_membership_with_its_role(api: Api, seed: Seed) -> None:
    m = seed.member
    # The member is also billing manager at Globex and admin of an org of their own.
    add = {"email": m.email, "role": "billing_manager"}
    r = api.post(f"/v1/orgs/{seed.other_org_id}/members", seed.outsider.key, add)
    assert r.status == 202 and r.body["status"] == "invited", r.body  # not Globex's domain: an invitation
    item = InvitationModel.get(seed.other_org_id, r.body["invitation_id"])
    assert item.link_nonce is not None
    token = invitation_links.token_for(item.org_id, item.invitation_id, item.link_nonce)
    assert api.post(f"/v1/invitations/{token}/accept", m.key).status == 200
    r = api.post("/v1/orgs", m.key, {"name": "Side Project"})
    assert r.status == 201, r.body
    own_org = r.body["org_id"]

    r = api.get("/v1/me", m.key)
    assert r.status == 200, r.body
    assert r.body["account_id"] == m.account_id and r.body["email"] == m.email
    got = {(x["org_id"], x["org_name"], x["role"], x["seat"]) for x in r.body["memberships"]}
    assert got == {
        (seed.org_id, "Acme", "member", False),
        (seed.other_org_id, "Globex", "billing_manager", False),
        (own_org, "Side Project", "account_admin", False),
    }
    # Another account sees only its own memberships.
    r = api.get("/v1/me", seed.outsider.key)
    assert [(x["org_id"], x["role"]) for x in r.body["memberships"]] == [(seed.other_org_id, "account_admin")]


def test_api_key_lifecycle(api: Api, seed: Seed) -> None:
    me = seed.member
    r = api.post("/v1/me/api-keys", me.key, {"name": "laptop"})
    assert r.status == 201, r.body
    secret, key_id = r.body["secret"], r.body["key_id"]
    assert secret.startswith("oak_") and len(secret) >= 40 and key_id.startswith("key_")
    assert r.body["name"] == "laptop" and r.body["status"] == "active"

    # The new key works; the listing never shows a secret.
    assert api.get("/v1/me", secret).body["account_id"] == me.account_id
    listing = api.get("/v1/me/api-keys", me.key)
    assert listing.status == 200
    by_id = {k["key_id"]: k for k in listing.body["items"]}
    assert by_id[key_id]["name"] == "laptop" and by_id[key_id]["status"] == "active"
    assert all("secret" not in k for k in listing.body["items"])
    text = json.dumps(listing.body)
    assert secret not in text and me.key not in text and "oak_" not in text

    # Revoke: 204, then the key is refused with a Bearer challenge; the listing shows it revoked.
    assert api.delete(f"/v1/me/api-keys/{key_id}", me.key).status == 204
    r = api.get("/v1/me", secret)
    assert r.status == 401 and r.code == "unauthenticated"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    listing = api.get("/v1/me/api-keys", me.key)
    revoked = next(k for k in listing.body["items"] if k["key_id"] == key_id)
    assert revoked["status"] == "revoked" and revoked["revoked_at"]
    # Revoking again is harmless; the caller's other key still works.
    assert api.delete(f"/v1/me/api-keys/{key_id}", me.key).status == 204
    assert api.get("/v1/me", me.key).status == 200


def test_cannot_revoke_another_accounts_key(api: Api, seed: Seed) -> None:
    r = api.post("/v1/me/api-keys", seed.admin.key, {"name": "admin's"})
    key_id, secret = r.body["key_id"], r.body["secret"]
    for caller in (seed.member, seed.outsider):
        r = api.delete(f"/v1/me/api-keys/{key_id}", caller.key)
        assert r.status == 404 and r.code == "not_found"
    assert api.delete("/v1/me/api-keys/key_doesnotexist", seed.admin.key).status == 404
    assert api.get("/v1/me", secret).status == 200
    # Someone else's key never shows in a listing.
    assert key_id not in json.dumps(api.get("/v1/me/api-keys", seed.member.key).body)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer oak_short",
        "Bearer not-a-key-at-all-but-long-enough-to-pass",
        "Bearer oak_" + "x" * 500,
        "Bearer oak_" + "\u00e9" * 30,
        "Bearer oat_" + "A" * 43,
        "unknown",
    ],
)
def test_malformed_or_unknown_keys_get_401(api: Api, seed: Seed, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    r = api.get("/v1/me", headers=headers)
    assert r.status == 401 and r.code == "unauthenticated", r.body
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_well_formed_unknown_key_gets_401(api: Api, seed: Seed) -> None:
    r = api.get("/v1/me", new_secret("oak"))
    assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_removed_member_keeps_their_account_key_but_loses_the_org(api: Api, seed: Seed) -> None:
    person: Person = new_person(seed, Role.MEMBER, "leaver")
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{person.account_id}", person.key).status == 204
    assert api.get("/v1/me", person.key).body["memberships"] == []
    r = api.get(f"/v1/orgs/{seed.org_id}", person.key)
    assert r.status == 404 and set(r.body) == {"error"}


# --- expiry and last use (issue 12, finding 12) -----------------------------------


@pytest.fixture
def dynamodb_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """DynamoDB write calls by operation name, counted at the botocore client."""
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]
    writes = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb" and operation_name in writes:
            calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    yield calls


def test_an_api_key_with_an_expiry_answers_401_once_it_has_passed(api: Api, seed: Seed) -> None:
    start = datetime.now(UTC)
    set_clock(lambda: start)
    expires = start + timedelta(days=30)
    made = api.post("/v1/me/api-keys", seed.member.key, {"name": "ci", "expires_at": expires.isoformat()})
    assert made.status == 201, made.body
    assert datetime.fromisoformat(made.body["expires_at"]) == expires
    secret, key_id = made.body["secret"], made.body["key_id"]
    assert api.get("/v1/me", secret).status == 200

    set_clock(lambda: expires + timedelta(seconds=1))
    refused = api.get("/v1/me", secret)
    assert (refused.status, refused.code) == (401, "unauthenticated")
    listed = {k["key_id"]: k for k in api.get("/v1/me/api-keys", seed.member.key).body["items"]}
    assert listed[key_id]["status"] == "expired"
    assert datetime.fromisoformat(listed[key_id]["expires_at"]) == expires

    # Without expires_at a key never expires; the listing says so with null.
    plain = api.post("/v1/me/api-keys", seed.member.key, {"name": "forever"})
    assert plain.status == 201 and plain.body["expires_at"] is None


@pytest.mark.parametrize(
    ("offset", "problem"),
    [(timedelta(days=-1), "in_the_past"), (timedelta(days=366), "beyond_max_lifetime")],
)
def test_api_key_expiry_must_be_ahead_and_within_the_max_setting(
    api: Api, seed: Seed, offset: timedelta, problem: str
) -> None:
    at = (datetime.now(UTC) + offset).isoformat()
    r = api.post("/v1/me/api-keys", seed.member.key, {"name": "x", "expires_at": at})
    assert (r.status, r.code) == (400, "invalid_request"), r.body
    assert r.body["error"]["details"][0]["problem"] == problem
    naive = api.post("/v1/me/api-keys", seed.member.key, {"name": "x", "expires_at": "2031-01-01T00:00:00"})
    assert naive.status == 400


def test_api_key_max_days_is_a_setting(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "api_key_max_days", 7)
    at = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    r = api.post("/v1/me/api-keys", seed.member.key, {"name": "x", "expires_at": at})
    assert r.body["error"]["details"][0]["problem"] == "beyond_max_lifetime"


def test_last_use_is_recorded_at_most_one_write_per_key_per_hour(
    api: Api, seed: Seed, dynamodb_writes: Counter[str]
) -> None:
    start = datetime.now(UTC)
    set_clock(lambda: start)
    made = api.post("/v1/me/api-keys", seed.member.key, {"name": "hot"})
    secret, key_id = made.body["secret"], made.body["key_id"]

    def last_used() -> datetime | None:
        items = api.get("/v1/me/api-keys", seed.member.key).body["items"]
        value = next(k for k in items if k["key_id"] == key_id)["last_used_at"]
        return datetime.fromisoformat(value) if value else None

    assert last_used() is None
    dynamodb_writes.clear()
    for _ in range(20):
        assert api.get("/v1/me", secret).status == 200
    assert sum(dynamodb_writes.values()) == 1 and dynamodb_writes["UpdateItem"] == 1
    assert last_used() == start

    # 59 minutes on: still no write; an hour and a minute on: one more.
    set_clock(lambda: start + timedelta(minutes=59))
    dynamodb_writes.clear()
    for _ in range(5):
        assert api.get("/v1/me", secret).status == 200
    assert sum(dynamodb_writes.values()) == 0
    later = start + timedelta(minutes=61)
    set_clock(lambda: later)
    for _ in range(5):
        assert api.get("/v1/me", secret).status == 200
    assert dynamodb_writes["UpdateItem"] == 1 and sum(dynamodb_writes.values()) == 1
    assert last_used() == later


def test_the_profile_page_shows_expiry_and_last_use_of_each_key(seed: Seed, mailer: MemoryMailer) -> None:

    start = datetime(2030, 3, 4, 5, 6, tzinfo=UTC)
    set_clock(lambda: start)
    expiring = keys.issue(seed.member.account_id, "expiring", expires_at=start + timedelta(days=10))[1]
    keys.issue(seed.member.account_id, "forever")
    keys.authenticate(expiring)
    browser = Browser()
    assert sign_in(browser, mailer, seed.member.email).status == 303
    page = browser.get("/profile")
    assert page.status == 200
    assert "Expires" in page.text
    # Name, Created, Expires, Last used, Status per row.
    row = page.text.split("expiring", 1)[1].split("Revoke", 1)[0].split()
    assert " ".join(row) == "04 Mar 2030 14 Mar 2030 04 Mar 2030, 05:06 UTC Active"
    forever = page.text.split("forever", 1)[1].split("Revoke", 1)[0].split()
    assert " ".join(forever) == "04 Mar 2030 Never Never Active"


def test_me_reads_the_names_of_all_its_orgs_in_one_request(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account in several orgs: one BatchGetItem for the org names, not one GetItem per membership."""
    m = seed.member
    for name in ("Side One", "Side Two", "Side Three", "Side Four"):
        assert api.post("/v1/orgs", m.key, {"name": name}).status == 201
    calls: list[tuple[str, Any]] = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls.append((operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    r = api.get("/v1/me", m.key)
    made = list(calls)
    assert r.status == 200, r.body
    assert sorted(x["org_name"] for x in r.body["memberships"]) == [
        "Acme", "Side Four", "Side One", "Side Three", "Side Two",
    ]  # fmt: skip
    org_reads = [op for op, p in made if OrgModel.Meta.table_name in json.dumps(p, default=str)]
    assert org_reads == ["BatchGetItem"]  # five orgs, one request
    # The whole call: the caller's key, the account, the memberships query, the org names.
    assert len(made) <= 5, [op for op, _ in made]
