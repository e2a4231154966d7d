"""Invariant 3: after a scenario, no table item and no log line holds a secret a client received."""

from __future__ import annotations

import logging

import pytest

from .helpers import Api, Seed
from .table_scan import scan_all, strings_in

SECRET_PREFIXES = ("oak_", "oat_", "osc_", "ose_", "olc_")  # API keys, tokens, SCIM tokens, sessions, sign-in codes


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
