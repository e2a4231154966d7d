"""Organization access tokens over HTTP: issue, list, renew, revoke, verify (invariants 3 and 4)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.clock import set_clock
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.base import client
from chalicelib.storage.schema import registered_models
from tests.support.console_support import Browser, sign_in
from tests.support.helpers import Api, Seed


def seat(api: Api, seed: Seed, account_id: str) -> None:
    r = api.post(f"/v1/orgs/{seed.org_id}/members/{account_id}/seat?notify=false", seed.admin.key)
    assert r.status == 200, r.body


def issue(api: Api, seed: Seed, key: str, name: str = "laptop", **body: str) -> dict:
    r = api.post(f"/v1/orgs/{seed.org_id}/tokens", key, {"name": name, **body})
    assert r.status == 201, r.body
    return dict(r.body)


def verify(api: Api, token: str, org_id: str | None = None) -> dict:
    body = {"token": token} if org_id is None else {"token": token, "org_id": org_id}
    r = api.post("/v1/tokens/verify", None, body)
    assert r.status == 200, r.body
    return dict(r.body)


def test_issue_needs_a_seat(api: Api, seed: Seed) -> None:
    r = api.post(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key, {"name": "laptop"})
    assert r.status == 403 and r.code == "seat_required"
    r = api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens", seed.admin.key, {"name": "x"})
    assert r.status == 403 and r.code == "seat_required"
    assert api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"] == []


def test_issue_list_verify_revoke_own(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    created = issue(api, seed, seed.member.key)
    assert created["secret"].startswith("oat_") and created["status"] == "active"
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(created["created_at"])
    assert timedelta(days=364) < lifetime <= timedelta(days=365)

    listed = api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"]
    assert [t["token_id"] for t in listed] == [created["token_id"]]
    assert "secret" not in listed[0]

    result = verify(api, created["secret"])
    assert result == {
        "active": True,
        "org_id": seed.org_id,
        "account_id": seed.member.account_id,
        "token_id": created["token_id"],
        "expires_at": result["expires_at"],
    }
    assert verify(api, created["secret"], seed.org_id)["active"] is True
    assert verify(api, created["secret"], seed.other_org_id) == {"active": False}
    listed = api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"]
    assert listed[0]["last_used_at"] is not None

    # Someone else's token id is simply not found among mine.
    r = api.delete(f"/v1/orgs/{seed.org_id}/tokens/{created['token_id']}", seed.admin.key)
    assert r.status == 404
    r = api.delete(f"/v1/orgs/{seed.org_id}/tokens/{created['token_id']}", seed.member.key)
    assert r.status == 204
    assert verify(api, created["secret"]) == {"active": False}
    listed = api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"]
    assert listed[0]["status"] == "revoked" and listed[0]["revoked_reason"] == "revoked_by_owner"


def test_verify_refuses_garbage_and_other_credentials(api: Api, seed: Seed) -> None:
    for token in ["", "oat_short", "oat_" + "A" * 43, seed.admin.key, "x" * 512]:
        assert verify(api, token) == {"active": False}
    r = api.post("/v1/tokens/verify", None, {"token": "x" * 513})
    assert r.status == 400 and r.code == "invalid_request"
    r = api.post("/v1/tokens/verify", None, {})
    assert r.status == 400 and r.code == "invalid_request"


def test_expiry_is_validated(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    path = f"/v1/orgs/{seed.org_id}/tokens"
    now = datetime.now(UTC)
    for bad in [
        (now - timedelta(minutes=1)).isoformat(),
        (now + timedelta(days=366)).isoformat(),
        "2030-01-01T00:00:00",  # no time zone
        "tomorrow",
    ]:
        r = api.post(path, seed.member.key, {"name": "x", "expires_at": bad})
        assert r.status == 400 and r.code == "invalid_request", (bad, r.body)
    assert api.get(path, seed.member.key).body["items"] == []
    chosen = (now + timedelta(days=30)).replace(microsecond=0)
    created = issue(api, seed, seed.member.key, expires_at=chosen.isoformat())
    assert datetime.fromisoformat(created["expires_at"]) == chosen


def test_expired_token_is_inactive(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    created = issue(api, seed, seed.member.key, expires_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    assert verify(api, created["secret"])["active"] is True
    later = datetime.now(UTC) + timedelta(days=2)
    set_clock(lambda: later)
    assert verify(api, created["secret"]) == {"active": False}
    listed = api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"]
    assert listed[0]["status"] == "expired"


def test_admin_manages_a_members_tokens(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    base = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens"
    r = api.post(base, seed.admin.key, {"name": "ci"})
    assert r.status == 201, r.body
    token = r.body
    assert verify(api, token["secret"])["account_id"] == seed.member.account_id
    assert [t["token_id"] for t in api.get(base, seed.admin.key).body["items"]] == [token["token_id"]]
    # The member sees it among their own tokens.
    own = api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"]
    assert [t["token_id"] for t in own] == [token["token_id"]]

    new_expiry = (datetime.now(UTC) + timedelta(days=200)).replace(microsecond=0)
    r = api.patch(f"{base}/{token['token_id']}", seed.admin.key, {"expires_at": new_expiry.isoformat()})
    assert r.status == 200 and datetime.fromisoformat(r.body["expires_at"]) == new_expiry
    r = api.patch(f"{base}/{token['token_id']}", seed.admin.key, {"expires_at": "2001-01-01T00:00:00Z"})
    assert r.status == 400 and r.code == "invalid_request"
    r = api.patch(f"{base}/tok_0000", seed.admin.key, {"expires_at": new_expiry.isoformat()})
    assert r.status == 404

    r = api.delete(f"{base}/{token['token_id']}", seed.admin.key)
    assert r.status == 204
    assert verify(api, token["secret"]) == {"active": False}
    r = api.patch(f"{base}/{token['token_id']}", seed.admin.key, {"expires_at": new_expiry.isoformat()})
    assert r.status == 409 and r.code == "token_revoked"
    listed = api.get(base, seed.admin.key).body["items"]
    assert listed[0]["revoked_reason"] == "revoked_by_admin"

    actions = [e["action"] for e in api.get(f"/v1/orgs/{seed.org_id}/audit-log", seed.admin.key).body["items"]]
    assert {"token.issued", "token.renewed", "token.revoked"} <= set(actions)


def test_token_routes_by_role(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    base = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens"
    for person in (seed.billing, seed.member):
        assert api.post(base, person.key, {"name": "x"}).status == 403
        assert api.get(base, person.key).status == 403
    assert api.post(base, seed.outsider.key, {"name": "x"}).status == 404
    assert api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.outsider.key).status == 404
    assert api.post(f"/v1/orgs/{seed.org_id}/tokens", None, {"name": "x"}).status == 401
    # A billing manager with a seat manages their own tokens.
    seat(api, seed, seed.billing.account_id)
    assert verify(api, issue(api, seed, seed.billing.key)["secret"])["active"] is True


def test_zero_window_seat_revocation(api: Api, seed: Seed) -> None:
    """Invariant 4: no stream handler runs here, yet the token dies with the seat and stays dead."""
    seat(api, seed, seed.member.account_id)
    old = issue(api, seed, seed.member.key)
    assert verify(api, old["secret"])["active"] is True
    r = api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat", seed.admin.key)
    assert r.status == 204
    assert verify(api, old["secret"]) == {"active": False}
    # Listed as revoked at once, before the stream cascade has flagged the item.
    listed = api.get(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key).body["items"]
    assert [(t["status"], t["revoked_reason"]) for t in listed] == [("revoked", "seat_revoked")]
    seat(api, seed, seed.member.account_id)
    assert verify(api, old["secret"]) == {"active": False}
    new = issue(api, seed, seed.member.key)
    assert verify(api, new["secret"])["active"] is True
    assert verify(api, old["secret"]) == {"active": False}


def test_zero_window_member_removal_and_rejoin(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    old = issue(api, seed, seed.member.key)
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}", seed.admin.key).status == 204
    assert verify(api, old["secret"]) == {"active": False}
    # Back with a seat (seat generation starts again at 0): the old token stays dead.
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": seed.member.email, "assign_seat": True})
    assert r.status == 201 and r.body["seat"] is True
    assert verify(api, old["secret"]) == {"active": False}
    assert verify(api, issue(api, seed, seed.member.key)["secret"])["active"] is True


def test_no_access_token_secret_in_tables_or_logs(api: Api, seed: Seed, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seat(api, seed, seed.member.account_id)
    secrets = [issue(api, seed, seed.member.key, name=f"t{i}")["secret"] for i in range(3)]
    r = api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens", seed.admin.key, {"name": "a"})
    secrets.append(r.body["secret"])
    r = api.post(
        f"/v1/orgs/{seed.org_id}/members/onboard",
        seed.admin.key,
        {"emails": ["new1@acme.test"], "issue_token": {"name": "onboarding"}},
    )
    secrets.append(r.body["items"][0]["token"]["secret"])
    for secret in secrets:
        verify(api, secret)
    api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat", seed.admin.key)
    for secret in secrets:
        verify(api, secret)
    dump = []
    for model in registered_models():
        for page in client().get_paginator("scan").paginate(TableName=model.Meta.table_name):
            dump.append(repr(page["Items"]))
    text = "\n".join(dump)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets + seed.secrets:
        body = secret.split("_", 1)[1]
        assert body not in text
        assert body not in logs


def test_token_lists_page_by_cursor(api: Api, seed: Seed) -> None:
    seat(api, seed, seed.member.account_id)
    ids = {issue(api, seed, seed.member.key, name=f"t{i}")["token_id"] for i in range(5)}
    path = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens"
    seen: list[str] = []
    cursor = None
    while True:
        r = api.get(f"{path}?limit=2" + (f"&cursor={cursor}" if cursor else ""), seed.admin.key)
        assert r.status == 200 and len(r.body["items"]) <= 2
        seen += [t["token_id"] for t in r.body["items"]]
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    r = api.get(f"{path}?cursor=not-a-cursor", seed.admin.key)
    assert r.status == 400 and r.code == "invalid_request"
    r = api.get(f"/v1/orgs/{seed.org_id}/members/acc_nobody/tokens", seed.admin.key)
    assert r.status == 404


def test_verify_answers_503_when_dynamodb_throttles(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.storage import base as storage_base

    class Throttled:
        def get_item(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")

    monkeypatch.setattr(storage_base, "bound_client", lambda: Throttled())
    r = api.post("/v1/tokens/verify", None, {"token": "oat_" + "A" * 43})
    assert r.status == 503 and r.code == "service_unavailable"


def test_token_lists_say_who_issued_each_token(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    member = seed.member
    seat(api, seed, member.account_id)
    own = issue(api, seed, member.key, "mine")
    by_admin = api.post(
        f"/v1/orgs/{seed.org_id}/members/{member.account_id}/tokens", seed.admin.key, {"name": "from-admin"}
    )
    assert by_admin.status == 201, by_admin.body
    assert by_admin.body["created_by"] == {"kind": "admin", "account_id": seed.admin.account_id}
    assert own["created_by"] == {"kind": "self", "account_id": member.account_id}

    for listing in (
        api.get(f"/v1/orgs/{seed.org_id}/tokens", member.key),
        api.get(f"/v1/orgs/{seed.org_id}/members/{member.account_id}/tokens", seed.admin.key),
    ):
        assert listing.status == 200, listing.body
        issuers = {t["name"]: t["created_by"] for t in listing.body["items"]}
        assert issuers == {
            "mine": {"kind": "self", "account_id": member.account_id},
            "from-admin": {"kind": "admin", "account_id": seed.admin.account_id},
        }

    # The member's own Token Access page says which one an admin minted for them.
    browser = Browser()
    assert sign_in(browser, mailer, member.email).status == 303
    page = browser.get(f"/orgs/{seed.org_id}/tokens")
    assert page.status == 200
    assert page.text.count("issued by an admin") == 1
    assert "from-admin issued by an admin" in " ".join(page.text.split())
