"""Invariant 3: after a scenario, no table item and no log line holds a secret a client received."""

from __future__ import annotations

import logging

import pytest

from tests.support import service_account_support as sa
from tests.support.helpers import Api, Seed
from tests.support.table_scan import scan_all, strings_in

# API keys, tokens, SCIM tokens, sessions, sign-in codes, service accounts' client secrets and access tokens
SECRET_PREFIXES = ("oak_", "oat_", "osc_", "ose_", "olc_", "oss_", "osa_")


def test_no_api_key_secret_at_rest_or_in_logs(api: Api, seed: Seed, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    received = list(seed.secrets)
    for person in (seed.admin, seed.billing, seed.member, seed.outsider):
        for name in ("laptop", "ci"):
            r = api.post("/v1/me/api-keys", person.key, {"name": name})
            assert r.status == 201
            received.append(r.body["secret"])
        first = api.get("/v1/me/api-keys", person.key).body["items"][0]["key_id"]
        assert api.delete(f"/v1/me/api-keys/{first}", person.key).status == 204
    # Use the keys, including revoked and unknown ones, and make some changes.
    for secret in received:
        assert api.get("/v1/me", secret).status in (200, 401)
    api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "new@acme.test", "role": "billing_manager"})
    api.post("/v1/orgs", received[-1], {"name": "Keyed"})
    api.get("/v1/me", "oak_" + "Z" * 43)
    api.get(f"/v1/orgs/{seed.org_id}/members?cursor=!!", seed.admin.key)

    assert len(set(received)) == len(received) == 4 + 8
    stored = [s for items in scan_all().values() for item in items for s in strings_in(item)]
    assert stored, "the scan found nothing: wrong tables?"
    for value in stored:
        assert not value.startswith(SECRET_PREFIXES), f"a bearer secret is stored: {value[:8]}..."
        for secret in received:
            assert secret not in value and secret[4:] not in value
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in received:
        assert secret not in logged and secret[4:] not in logged


def test_no_client_secret_or_service_token_at_rest_or_in_logs(
    api: Api, seed: Seed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read", "seats:write"])
    url = f"/v1/orgs/{seed.org_id}/service-accounts/{client.client_id}"
    added = api.post(url + "/secrets", seed.admin.key).body
    second = sa.Client(client.client_id, added["client_secret"], added["secret_id"])
    received = [client.client_secret, second.client_secret]
    for who, use_basic in ((client, True), (second, False), (client, False)):
        r = sa.grant(api, who, use_basic=use_basic)
        assert r.status == 200
        received.append(r.body["access_token"])
    # Use the tokens, refused calls and failed grants included, and make some changes.
    for token in received[2:]:
        assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 200
        assert api.get("/v1/me", token).status == 403
    sa.token_call(api, {"grant_type": "client_credentials"}, sa.basic(client.client_id, client.client_secret + "x"))
    sa.token_call(
        api, {"grant_type": "client_credentials", "scope": "scim"}, sa.basic(client.client_id, client.client_secret)
    )
    api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat?notify=false", received[2])
    assert api.delete(f"{url}/secrets/{client.secret_id}", seed.admin.key).status == 204
    assert api.get(f"/v1/orgs/{seed.org_id}/members", received[2]).status == 401

    stored = [s for items in scan_all().values() for item in items for s in strings_in(item)]
    assert any(s.startswith("sa_") for s in stored), "the scan did not reach the service accounts"
    for value in stored:
        assert not value.startswith(SECRET_PREFIXES), f"a bearer secret is stored: {value[:8]}..."
        for secret in received:
            assert secret not in value and secret[4:] not in value
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in received:
        assert secret not in logged and secret[4:] not in logged
