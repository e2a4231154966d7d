"""Service accounts: management, the client-credentials grant (RFC 6749 4.4 / 5.2), tokens on the REST API."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from chalicelib.domain.errors import ServiceAccountSecretLimit
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role, Scope
from chalicelib.mail.base import MemoryMailer
from chalicelib.secrets import hash_secret
from chalicelib.services import members, service_accounts
from chalicelib.storage.orgs import OrgModel
from tests.local.test_concurrency import run_together
from tests.support import service_account_support as sa
from tests.support.helpers import Api, Person, Seed, add_person, admin_actor
from tests.support.member_stream import deliver, raw_member, record

ALL = [s.value for s in Scope]


def oauth_error(r: object, error: str, status: int = 400) -> None:
    """An RFC 6749 5.2 refusal: exactly {error, error_description}, never cached."""
    assert r.status == status, r.body  # type: ignore[attr-defined]
    body, headers = r.body, r.headers  # type: ignore[attr-defined]
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error and body["error_description"]
    assert headers.get("Cache-Control") == "no-store"


# ---------------------------------------------------------------- management


def test_the_created_secret_reads_back_as_the_answer_showed_it(api: Api, seed: Seed) -> None:
    """The create answer's secret (its creation time included) is what every later read shows."""
    r = api.post(f"/v1/orgs/{seed.org_id}/service-accounts", seed.admin.key, {"name": "ci", "scopes": ["members:read"]})
    assert r.status == 201 and r.body["secrets"]
    got = api.get(f"/v1/orgs/{seed.org_id}/service-accounts/{r.body['client_id']}", seed.admin.key)
    assert got.status == 200 and got.body["secrets"] == r.body["secrets"]


def test_create_shows_the_secret_once_and_takes_no_seat(api: Api, seed: Seed) -> None:
    before = OrgModel.get(seed.org_id, consistent_read=True)
    r = api.post(f"/v1/orgs/{seed.org_id}/service-accounts", seed.admin.key, {"name": "ci", "scopes": ["members:read"]})
    assert r.status == 201
    assert r.body["client_id"].startswith("sa_") and r.body["client_secret"].startswith("oss_")
    assert r.body["scopes"] == ["members:read"] and r.body["status"] == "active"
    assert r.body["created_by"] == f"account:{seed.admin.account_id}"
    after = OrgModel.get(seed.org_id, consistent_read=True)
    assert (after.seats_used, after.member_count) == (before.seats_used, before.member_count)
    listed = api.get(f"/v1/orgs/{seed.org_id}/service-accounts", seed.admin.key)
    assert listed.status == 200
    [item] = listed.body["items"]
    assert "client_secret" not in item and r.body["client_secret"] not in json.dumps(listed.body)
    assert [s["secret_id"] for s in item["secrets"]] == [r.body["secret_id"]]
    assert item["secrets"][0]["last_used_at"] is None
    got = api.get(f"/v1/orgs/{seed.org_id}/service-accounts/{item['client_id']}", seed.admin.key)
    assert got.status == 200 and got.body == item
    members_list = api.get(f"/v1/orgs/{seed.org_id}/members", seed.admin.key).body["items"]
    assert all(m["account_id"] != item["client_id"] for m in members_list)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["scim"]},
        {"name": "x", "scopes": []},
        {"name": "x"},
        {"name": "", "scopes": ["members:read"]},
        {"name": "x", "scopes": ["members:read"], "extra": 1},
        {"name": "x", "scopes": "members:read"},
    ],
)
def test_bad_create_is_400_and_writes_nothing(api: Api, seed: Seed, body: dict[str, object]) -> None:
    r = api.post(f"/v1/orgs/{seed.org_id}/service-accounts", seed.admin.key, body)
    assert r.status == 400 and r.code == "invalid_request", r.body
    assert api.get(f"/v1/orgs/{seed.org_id}/service-accounts", seed.admin.key).body["items"] == []


def test_another_orgs_service_account_is_not_found(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    base = f"/v1/orgs/{seed.other_org_id}/service-accounts/{client.client_id}"
    assert api.get(base, seed.outsider.key).status == 404
    assert api.patch(base, seed.outsider.key, {"disabled": True}).status == 404
    assert api.delete(base, seed.outsider.key).status == 404
    assert api.post(base + "/secrets", seed.outsider.key).status == 404
    assert sa.grant(api, client).status == 200  # untouched


def test_patch_needs_a_field_and_renames(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    url = f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}"
    assert api.patch(url, seed.admin.key, {}).code == "invalid_request"
    assert api.patch(url, seed.admin.key, {"scopes": ["scim"]}).code == "invalid_request"
    r = api.patch(url, seed.admin.key, {"name": "deployer", "scopes": ["seats:write", "members:read"]})
    assert r.status == 200 and r.body["name"] == "deployer"
    assert r.body["scopes"] == ["members:read", "seats:write"]


def test_two_secrets_at_most_and_rotation(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    url = f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}"
    old_token = sa.grant(api, client).body["access_token"]
    added = api.post(url + "/secrets", seed.admin.key)
    assert added.status == 201 and added.body["client_secret"].startswith("oss_")
    third = api.post(url + "/secrets", seed.admin.key)
    assert third.status == 409 and third.code == "secret_limit_reached"
    new = sa.Client(client.client_id, added.body["client_secret"], added.body["secret_id"])
    new_token = sa.grant(api, new).body["access_token"]
    # Both secrets work during the rotation; deleting the old one stops its tokens only.
    assert api.get(f"/v1/orgs/{seed.org_id}/members", old_token).status == 200
    assert api.delete(f"{url}/secrets/{client.secret_id}", seed.admin.key).status == 204
    refused = api.get(f"/v1/orgs/{seed.org_id}/members", old_token)
    assert refused.status == 401 and refused.code == "unauthenticated"
    assert api.get(f"/v1/orgs/{seed.org_id}/members", new_token).status == 200
    oauth_error(sa.grant(api, client), "invalid_client", 401)
    assert api.delete(f"{url}/secrets/{client.secret_id}", seed.admin.key).status == 404
    assert api.post(url + "/secrets", seed.admin.key).status == 201


def test_concurrent_secret_additions_never_pass_two(local_tables: str) -> None:
    from chalicelib.services import bootstrap

    boot = bootstrap.bootstrap("Race SA", "admin@race-sa.test")
    actor = Actor(actor=f"account:{boot.account_id}", request_id="race", account_id=boot.account_id)
    account, _, _ = service_accounts.create(boot.org_id, actor, "robot", frozenset({Scope.MEMBERS_READ}))
    results = run_together([lambda: service_accounts.add_secret(boot.org_id, actor, account.sa_id)] * 8)
    wins = [r for r in results if not isinstance(r, Exception)]
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, ServiceAccountSecretLimit)]
    assert not unexpected, unexpected
    assert len(wins) == 1
    assert len(service_accounts.get(boot.org_id, actor, account.sa_id).secrets) == 2


def test_concurrent_grants_and_disable_leave_no_live_token(local_tables: str) -> None:
    """A grant racing a disable either loses or mints a token the disable kills (generation)."""
    from chalicelib.services import bootstrap

    boot = bootstrap.bootstrap("Race Off", "admin@race-off.test")
    actor = Actor(actor=f"account:{boot.account_id}", request_id="race", account_id=boot.account_id)
    account, _, secret = service_accounts.create(boot.org_id, actor, "robot", frozenset({Scope.MEMBERS_READ}))
    calls = [lambda: service_accounts.grant(account.sa_id, secret, None, basic=True) for _ in range(8)]
    calls.insert(4, lambda: service_accounts.update(boot.org_id, actor, account.sa_id, disabled=True))
    results = run_together(calls)
    granted = [r for r in results if isinstance(r, service_accounts.Granted)]
    for g in granted:
        with pytest.raises(Exception) as refused:
            service_accounts.authenticate(g.access_token, "after")
        assert type(refused.value).__name__ == "Unauthenticated"
    assert service_accounts.get(boot.org_id, actor, account.sa_id).disabled


def test_concurrent_grants_of_one_client_all_succeed(local_tables: str) -> None:
    """Eight workers fetching a token at once each get one: their writes of the client's item are retried."""
    from chalicelib.services import bootstrap

    boot = bootstrap.bootstrap("Race Grants", "admin@race-grants.test")
    actor = Actor(actor=f"account:{boot.account_id}", request_id="race", account_id=boot.account_id)
    account, _, secret = service_accounts.create(boot.org_id, actor, "robot", frozenset({Scope.MEMBERS_READ}))
    results = run_together([lambda: service_accounts.grant(account.sa_id, secret, None, basic=True)] * 8)
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures
    tokens = {r.access_token for r in results if isinstance(r, service_accounts.Granted)}
    assert len(tokens) == 8
    for token in tokens:
        assert service_accounts.authenticate(token, "after").is_service_account


# ---------------------------------------------------------------- the grant


def test_grant_by_basic_and_by_form(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read", "audit:read"])
    for use_basic in (True, False):
        r = sa.grant(api, client, use_basic=use_basic)
        assert r.status == 200, r.body
        assert r.body["token_type"] == "Bearer" and r.body["expires_in"] == 900
        assert r.body["scope"] == "audit:read members:read"
        assert r.body["access_token"].startswith("osa_")
        assert r.headers.get("Cache-Control") == "no-store" and r.headers.get("Pragma") == "no-cache"
        assert api.get(f"/v1/orgs/{seed.org_id}/audit-log", r.body["access_token"]).status == 200
    listed = api.get(f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}", seed.admin.key).body
    assert listed["secrets"][0]["last_used_at"] is not None and listed["last_used_at"] is not None


def test_token_expires_after_its_lifetime(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    _client, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read"])
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 200
    later = service_accounts.now() + timedelta(seconds=901)
    monkeypatch.setattr(service_accounts, "now", lambda: later)
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 401


def test_scope_narrowing(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read", "audit:read"])
    r = sa.grant(api, client, "members:read")
    assert r.status == 200 and r.body["scope"] == "members:read"
    token = r.body["access_token"]
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 200
    beyond = api.get(f"/v1/orgs/{seed.org_id}/audit-log", token)
    assert beyond.status == 403 and beyond.code == "forbidden"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "invalid_request"),
        ({"scope": "members:read"}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "scim"}, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "members:read  audit:read"}, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": ""}, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "seats:write"}, "invalid_scope"),  # not granted
    ],
)
def test_grant_errors_by_basic(api: Api, seed: Seed, fields: dict[str, str], error: str) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read", "audit:read"])
    oauth_error(sa.token_call(api, fields, sa.basic(client.client_id, client.client_secret)), error)


def test_invalid_request_shapes(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    creds = {"client_id": client.client_id, "client_secret": client.client_secret}
    grant = {"grant_type": "client_credentials"}
    # A parameter given twice (RFC 6749 3.2).
    twice = "grant_type=client_credentials&grant_type=client_credentials"
    r = api.call("POST", "/v1/oauth/token", body=twice, headers={**sa.FORM, **sa.basic(*creds.values())})
    oauth_error(r, "invalid_request")
    # Two authentication methods at once.
    oauth_error(sa.token_call(api, {**grant, **creds}, sa.basic(*creds.values())), "invalid_request")
    # A client id without its secret.
    oauth_error(sa.token_call(api, {**grant, "client_id": client.client_id}), "invalid_request")
    # Not a form.
    r = api.call("POST", "/v1/oauth/token", body=json.dumps({**grant, **creds}))
    oauth_error(r, "invalid_request")
    # Another authentication scheme.
    oauth_error(sa.token_call(api, grant, {"Authorization": "Bearer " + client.client_secret}), "invalid_request")


def test_invalid_client_by_basic_is_401_with_a_challenge(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    grant = {"grant_type": "client_credentials"}
    for headers in (
        sa.basic(client.client_id, "oss_" + "x" * 43),
        sa.basic("sa_" + "0" * 20, client.client_secret),
        sa.basic(client.client_id, client.client_secret[:-1]),
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic \u00e9t\u00e9"},  # not ASCII: b64decode's ValueError, once a 500
        {},  # no client authentication at all
    ):
        r = sa.token_call(api, grant, headers)
        oauth_error(r, "invalid_client", 401)
        assert r.headers.get("WWW-Authenticate", "").startswith("Basic realm=")


def test_invalid_client_by_form_is_400(api: Api, seed: Seed) -> None:
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    r = sa.token_call(
        api, {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": "oss_" + "y" * 43}
    )
    oauth_error(r, "invalid_client", 400)
    assert "WWW-Authenticate" not in r.headers


def test_disabled_account_is_unauthorized_client_and_its_tokens_stop_at_once(api: Api, seed: Seed) -> None:
    client, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read"])
    url = f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}"
    assert api.patch(url, seed.admin.key, {"disabled": True}).body["status"] == "disabled"
    r = api.get(f"/v1/orgs/{seed.org_id}/members", token)
    assert r.status == 401 and r.code == "unauthenticated"
    oauth_error(sa.grant(api, client), "unauthorized_client")
    # Enabling again revives no earlier token; a new grant works.
    assert api.patch(url, seed.admin.key, {"disabled": False}).body["status"] == "active"
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 401
    fresh = sa.grant(api, client).body["access_token"]
    assert api.get(f"/v1/orgs/{seed.org_id}/members", fresh).status == 200


def test_deleted_account_stops_its_tokens(api: Api, seed: Seed) -> None:
    client, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read"])
    url = f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}"
    assert api.delete(url, seed.admin.key).status == 204
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 401
    oauth_error(sa.grant(api, client), "invalid_client", 401)
    assert api.get(url, seed.admin.key).status == 404
    assert api.delete(url, seed.admin.key).status == 404


def test_narrowing_the_accounts_scopes_narrows_live_tokens(api: Api, seed: Seed) -> None:
    client, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read", "audit:read"])
    assert api.get(f"/v1/orgs/{seed.org_id}/audit-log", token).status == 200
    url = f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}"
    assert api.patch(url, seed.admin.key, {"scopes": ["members:read"]}).status == 200
    assert api.get(f"/v1/orgs/{seed.org_id}/audit-log", token).status == 403
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 200


def test_forged_and_malformed_tokens_are_refused(api: Api, seed: Seed) -> None:
    _client, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read"])
    other, _ = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read"])
    # The token names its account: pointing it at another account finds no token item there.
    forged = "osa_" + other.client_id.removeprefix("sa_") + token[24:]
    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "osa_short", "osa_" + "0" * 63):
        r = api.get(f"/v1/orgs/{seed.org_id}/members", bad)
        assert r.status == 401 and r.code == "unauthenticated", bad


# ---------------------------------------------------------------- what a token may do


def test_token_acts_only_in_its_own_org_and_never_as_a_person(api: Api, seed: Seed) -> None:
    _, token = sa.token_for(api, seed.org_id, seed.admin.key, ALL)
    assert api.get(f"/v1/orgs/{seed.other_org_id}/members", token).status == 404
    for method, path, body in (
        ("GET", "/v1/me", None),
        ("POST", "/v1/me/api-keys", {"name": "x"}),
        ("POST", "/v1/orgs", {"name": "Robot Co"}),
        ("GET", f"/v1/orgs/{seed.org_id}/service-accounts", None),
        ("POST", f"/v1/orgs/{seed.org_id}/service-accounts", {"name": "child", "scopes": ["members:read"]}),
        ("POST", f"/v1/orgs/{seed.org_id}/scim-tokens", {"name": "x"}),
        ("GET", f"/v1/orgs/{seed.org_id}/domains", None),
        ("PUT", f"/v1/orgs/{seed.org_id}/seats", {"capacity": 99}),
        ("PATCH", f"/v1/orgs/{seed.org_id}", {"name": "Renamed"}),
        ("POST", f"/v1/orgs/{seed.org_id}/tokens", {"name": "own"}),
    ):
        r = api.call(method, path, token, body)
        assert r.status == 403 and r.code == "forbidden", (method, path, r.body)


def test_actions_are_audited_with_the_service_account_as_actor(api: Api, seed: Seed) -> None:
    client, token = sa.token_for(api, seed.org_id, seed.admin.key, ["seats:write", "members:write"])
    assert api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat?notify=false", token).status == 200
    r = api.post(f"/v1/orgs/{seed.org_id}/members", token, {"email": "robot-added@acme.test"})
    assert r.status == 201, r.body
    log = api.get(f"/v1/orgs/{seed.org_id}/audit-log", seed.admin.key).body["items"]
    by_action = {e["action"]: e for e in reversed(log)}  # the newest of each action
    assert by_action["seat.assigned"]["actor"] == f"service_account:{client.client_id}"
    assert by_action["member.added"]["actor"] == f"service_account:{client.client_id}"
    created = by_action["service_account.created"]
    assert created["actor"] == f"account:{seed.admin.account_id}" and created["target"] == client.client_id


def test_a_further_permission_needs_its_own_scope(api: Api, seed: Seed) -> None:
    """members:write alone adds people, but not with a seat, and onboarding (which seats) needs seats:write."""
    _, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:write"])
    r = api.post(f"/v1/orgs/{seed.org_id}/members", token, {"email": "seated@acme.test", "assign_seat": True})
    assert r.status == 403 and r.code == "forbidden"
    r = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", token, {"emails": ["onb@acme.test"]})
    assert r.status == 403 and r.code == "forbidden"
    assert members.find(seed.org_id, seed.member.account_id) is not None


def _remove(api: Api, seed: Seed, maker: Person) -> None:
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{maker.account_id}", seed.admin.key).status == 204


def _demote(api: Api, seed: Seed, maker: Person) -> None:
    path = f"/v1/orgs/{seed.org_id}/members/{maker.account_id}/role"
    assert api.put(path, seed.admin.key, {"role": "member"}).status == 200


LOSSES = {"removed": (_remove, "maker_removed"), "demoted": (_demote, "maker_demoted")}


@pytest.mark.parametrize("loss", list(LOSSES))
def test_a_service_account_dies_with_its_makers_power(api: Api, seed: Seed, mailer: MemoryMailer, loss: str) -> None:
    """An org credential is never stronger than its maker (invariant 10): removed or demoted, the
    admin's service account stops at once, is disabled by the Members stream, and the admins are told."""
    change, reason = LOSSES[loss]
    second = add_person(seed.org_id, seed.admin, "second@acme.test", Role.ACCOUNT_ADMIN)
    maker = add_person(seed.org_id, seed.admin, "mallory@acme.test", Role.ACCOUNT_ADMIN)
    client = sa.create(api, seed.org_id, maker.key, ALL, name="mallory-robot")
    token = sa.grant(api, client).body["access_token"]
    kept, kept_token = sa.token_for(api, seed.org_id, second.key, ["members:read"])
    org = f"/v1/orgs/{seed.org_id}"
    assert api.get(f"{org}/members", token).status == 200

    before = raw_member(seed.org_id, maker.account_id)
    change(api, seed, maker)
    after = raw_member(seed.org_id, maker.account_id)

    # Refused at once, before the stream has run: no way back in with it.
    for method, path, body in (
        ("GET", f"{org}/members", None),
        ("POST", f"{org}/invitations", {"emails": [maker.email], "role": "billing_manager"}),
        ("POST", f"{org}/members", {"email": "back@acme.test", "role": "member"}),
        ("POST", f"{org}/seats/assign", {"account_ids": [seed.member.account_id]}),
    ):
        r = api.call(method, path, token, body)
        assert r.status == 401 and r.code == "unauthenticated", (method, path, r.body)
    refused = sa.grant(api, client)
    oauth_error(refused, "unauthorized_client")
    assert refused.body["error_description"] == service_accounts.MAKER_LOST
    # The account of an admin who stays is untouched.
    assert api.get(f"{org}/members", kept_token).status == 200
    assert sa.grant(api, kept).status == 200

    mailer.sent.clear()
    assert deliver(record(before, after))["service_accounts_disabled"] == 1

    got = api.get(f"{org}/service-accounts/{client.client_id}", seed.admin.key).body
    assert got["status"] == "disabled" and got["disabled_reason"] == reason
    assert api.get(f"{org}/service-accounts/{kept.client_id}", seed.admin.key).body["status"] == "active"
    assert api.get(f"{org}/members", token).status == 401
    oauth_error(sa.grant(api, client), "unauthorized_client")
    log = api.get(f"{org}/audit-log?action=service_account.disabled", seed.admin.key).body["items"]
    [entry] = [e for e in log if e["target"] == client.client_id]
    assert entry["actor"] == "system:credential_cascade"
    assert entry["details"]["reason"] == reason and entry["details"]["maker"] == maker.account_id

    notices = [m for m in mailer.sent if m.tags.get("kind") == "credentials_revoked"]
    assert sorted(m.to for m in notices) == sorted([seed.admin.email, second.email])
    for m in notices:
        assert client.client_id in m.text and "mallory-robot" in m.text and maker.email in m.text
        assert "service accounts they created have been disabled" in m.text and kept.client_id not in m.text
        assert ("removed" if reason == "maker_removed" else "no longer") in m.text
        assert m.subject.startswith("Service accounts disabled")

    # A replay (the stream retries whole batches) disables, audits and mails nothing more.
    mailer.sent.clear()
    assert deliver(record(before, after))["service_accounts_disabled"] == 0
    assert not [m for m in mailer.sent if m.tags.get("kind") == "credentials_revoked"]
    again = api.get(f"{org}/audit-log?action=service_account.disabled", seed.admin.key).body["items"]
    assert len([e for e in again if e["target"] == client.client_id]) == 1
    assert api.get(f"{org}/members", kept_token).status == 200


def test_a_makers_later_membership_does_not_revive_the_account(api: Api, seed: Seed) -> None:
    """Removed and added again, the admin holds a new membership: the old account stays refused."""
    maker = add_person(seed.org_id, seed.admin, "mallory@acme.test", Role.ACCOUNT_ADMIN)
    client, token = sa.token_for(api, seed.org_id, maker.key, ["members:read"])
    _remove(api, seed, maker)
    members.add_member(seed.org_id, admin_actor(seed.admin), maker.email, Role.ACCOUNT_ADMIN)
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 401
    oauth_error(sa.grant(api, client), "unauthorized_client")


def test_an_account_made_before_makers_were_recorded_takes_its_maker_from_created_by(api: Api, seed: Seed) -> None:
    """No maker attributes, and a token of the earlier shape (no maker named in it): still refused."""
    from chalicelib.secrets import new_secret
    from chalicelib.storage.service_accounts import ACCOUNT, ServiceAccountModel, token_item

    maker = add_person(seed.org_id, seed.admin, "mallory@acme.test", Role.ACCOUNT_ADMIN)
    client, new_token = sa.token_for(api, seed.org_id, maker.key, ["members:read"])
    item = ServiceAccountModel.get(client.client_id, ACCOUNT, consistent_read=True)
    assert item.account_id == maker.account_id and item.member_joined_at is not None
    item.update(actions=[ServiceAccountModel.account_id.remove(), ServiceAccountModel.member_joined_at.remove()])
    old_token = "osa_" + client.client_id.removeprefix("sa_") + new_secret("osa").removeprefix("osa_")
    granted = ServiceAccountModel.get(client.client_id, token_item(hash_secret(new_token)))
    granted.item = token_item(hash_secret(old_token))
    granted.save()
    for token in (new_token, old_token):
        assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 200
    _demote(api, seed, maker)
    for token in (new_token, old_token):
        assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 401
    oauth_error(sa.grant(api, client), "unauthorized_client")


def test_a_token_check_is_one_request_that_reads_the_maker(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Token, account and the maker's member item: one consistent BatchGetItem, nothing else."""
    from chalicelib.storage import service_accounts as account_rows
    from chalicelib.storage.base import client as real_client
    from chalicelib.storage.members import MemberModel

    _, token = sa.token_for(api, seed.org_id, seed.admin.key, ["members:read"])
    calls: list[dict[str, object]] = []

    class Counting:
        def __getattr__(self, name: str) -> object:
            calls.append({"op": name})
            return getattr(real_client(), name)

        def batch_get_item(self, **kwargs: object) -> object:
            calls.append({"op": "batch_get_item", **kwargs})
            return real_client().batch_get_item(**kwargs)

    monkeypatch.setattr(account_rows, "client", lambda: Counting())
    monkeypatch.setattr(members, "get_item", lambda *_: pytest.fail("a second read"))
    actor = service_accounts.authenticate(token, "test")
    assert actor.scope_org == seed.org_id
    [call] = calls
    request = call["RequestItems"]
    assert isinstance(request, dict)
    assert request[MemberModel.Meta.table_name] == {
        "Keys": [{"org_id": {"S": seed.org_id}, "account_id": {"S": seed.admin.account_id}}],
        "ConsistentRead": True,
    }
    assert all(part["ConsistentRead"] for part in request.values())


def test_a_service_account_never_touches_the_admin_role(api: Api, seed: Seed) -> None:
    _, token = sa.token_for(api, seed.org_id, seed.admin.key, ALL)
    org = f"/v1/orgs/{seed.org_id}"
    for method, path, body in (
        ("POST", f"{org}/members", {"email": "boss2@acme.test", "role": "account_admin"}),
        ("PUT", f"{org}/members/{seed.member.account_id}/role", {"role": "account_admin"}),
        ("PUT", f"{org}/members/{seed.admin.account_id}/role", {"role": "member"}),
        ("DELETE", f"{org}/members/{seed.admin.account_id}", None),
        ("POST", f"{org}/invitations", {"emails": ["boss3@acme.test"], "role": "account_admin"}),
        ("POST", f"{org}/members/onboard", {"emails": ["boss4@acme.test"], "role": "account_admin"}),
    ):
        r = api.call(method, path, token, body)
        assert r.status == 403 and r.code == "forbidden", (method, path, r.body)
    assert members.find(seed.org_id, seed.member.account_id).role is Role.MEMBER  # type: ignore[union-attr]
    assert members.find(seed.org_id, seed.admin.account_id).role is Role.ACCOUNT_ADMIN  # type: ignore[union-attr]
    # Other roles are its to give.
    r = api.put(f"{org}/members/{seed.member.account_id}/role", token, {"role": "billing_manager"})
    assert r.status == 200, r.body


def test_a_service_account_cannot_send_an_admin_invitation_again(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resending mails a fresh link: for an account_admin invitation that would hand out admin power."""
    from chalicelib.storage.invitations import InvitationModel
    from tests.support.helpers import set_limits

    set_limits(monkeypatch, RESEND_COOLDOWN_SECONDS=0)
    org = f"/v1/orgs/{seed.org_id}"
    boss = api.post(f"{org}/invitations", seed.admin.key, {"emails": ["boss9@acme.test"], "role": "account_admin"})
    dev = api.post(f"{org}/invitations", seed.admin.key, {"emails": ["dev9@acme.test"]})
    boss_id, dev_id = boss.body["results"][0]["invitation_id"], dev.body["results"][0]["invitation_id"]
    assert api.delete(f"{org}/invitations/{boss_id}", seed.admin.key).status == 204  # revoked: resend revives it
    before = InvitationModel.get(seed.org_id, boss_id, consistent_read=True)
    _, token = sa.token_for(api, seed.org_id, seed.admin.key, ["invitations:write"])

    single = api.post(f"{org}/invitations/{boss_id}/resend", token)
    assert (single.status, single.code) == (403, "forbidden"), single.body
    bulk = api.post(f"{org}/invitations/resend", token, {"invitation_ids": [boss_id, dev_id]})
    assert [r["status"] for r in bulk.body["results"]] == ["forbidden", "resent"], bulk.body
    after = InvitationModel.get(seed.org_id, boss_id, consistent_read=True)
    assert (after.status, after.issue) == (before.status, before.issue)  # no new link, still revoked
    assert api.post(f"{org}/invitations/{boss_id}/resend", seed.admin.key).status == 200  # a person may


# ---------------------------------------------------------------- the grant's rate limit


def _wrong_secret(i: int) -> str:
    return "oss_" + f"{i:02d}" + "w" * 41


def test_failed_client_authentications_are_limited_per_client_without_storing_a_secret(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services import client_auth_limits
    from chalicelib.storage.quotas import QuotaModel
    from tests.support.table_scan import scan_all, strings_in

    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    other = sa.create(api, seed.org_id, seed.admin.key, ["members:read"], name="other")
    limit = client_auth_limits.CLIENT_AUTH_FAILURES
    wrong = [_wrong_secret(i) for i in range(limit)]
    for i, secret in enumerate(wrong):
        fields = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret}
        if i % 2:  # a malformed secret counts too
            fields["client_secret"] = "not-a-secret"
        oauth_error(sa.token_call(api, fields), "invalid_client", 400)
    # The limit reached: even the right secret is refused until the window ends, with Retry-After.
    for use_basic in (True, False):
        r = sa.grant(api, client, use_basic=use_basic)
        oauth_error(r, "too_many_requests", 429)
        assert 1 <= int(r.headers["Retry-After"]) <= client_auth_limits.WINDOW_SECONDS
        assert "WWW-Authenticate" not in r.headers
    # Per client id: another client of the same org is not limited.
    assert sa.grant(api, other).status == 200
    # The counter holds the client id, never the secrets offered nor their hashes.
    counters = [q for q in QuotaModel.scan() if client.client_id in q.quota_id]
    assert [int(q.used) for q in counters] == [limit]
    stored = " ".join(s for rows in scan_all().values() for row in rows for s in strings_in(row))
    for secret in [*wrong, "not-a-secret", client.client_secret]:
        assert secret not in stored
    for secret in wrong:
        assert hash_secret(secret) not in stored
    # The next window starts afresh.
    later = client_auth_limits.now() + timedelta(seconds=client_auth_limits.WINDOW_SECONDS)
    monkeypatch.setattr(client_auth_limits, "now", lambda: later)
    assert sa.grant(api, client).status == 200


def test_successful_grants_are_not_counted(api: Api, seed: Seed) -> None:
    from chalicelib.services import client_auth_limits

    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    for _ in range(client_auth_limits.CLIENT_AUTH_FAILURES + 2):
        assert sa.grant(api, client).status == 200
    assert client_auth_limits.wait_for(client.client_id) is None


def test_concurrent_failed_authentications_all_count(local_tables: str) -> None:
    """Failures racing on DynamoDB Local each raise the counter (an atomic ADD): the limit is not passed."""
    from chalicelib.domain.errors import OAuthError
    from chalicelib.services import bootstrap, client_auth_limits

    boot = bootstrap.bootstrap("Race Failures", "admin@race-failures.test")
    actor = Actor(actor=f"account:{boot.account_id}", request_id="race", account_id=boot.account_id)
    account, _, secret = service_accounts.create(boot.org_id, actor, "robot", frozenset({Scope.MEMBERS_READ}))
    limit = client_auth_limits.CLIENT_AUTH_FAILURES
    calls = [
        (lambda s=s: service_accounts.grant(account.sa_id, s, None, basic=False))
        for s in (_wrong_secret(i) for i in range(limit))
    ]
    results = run_together(calls)
    assert all(isinstance(r, OAuthError) and r.error == "invalid_client" for r in results), results
    with pytest.raises(OAuthError) as refused:
        service_accounts.grant(account.sa_id, secret, None, basic=False)
    assert refused.value.error == "too_many_requests" and refused.value.status == 429
