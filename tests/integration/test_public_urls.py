"""Absolute URLs the service answers with come from PUBLIC_BASE_URL, never from request headers.

A client controls ``Host`` and ``X-Forwarded-Proto``; a SCIM ``meta.location`` or ``Location``
built from them let anyone make the API hand out ``javascript://attacker.example/...``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.config import get_settings
from tests.support.helpers import Api, Seed
from tests.support.scim_helpers import Scim, issue_scim_token

FORGED = {
    "Host": "attacker.example",
    "X-Forwarded-Proto": "javascript",
    "X-Forwarded-Host": "attacker.example",
    "Forwarded": "host=attacker.example;proto=javascript",
}
BASE = "https://members.example.com"


@pytest.fixture
def scim(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> Scim:
    monkeypatch.setattr(get_settings(), "public_base_url", BASE + "/")
    return Scim(api, issue_scim_token(seed)[1])


def locations(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "location" and isinstance(child, str):
                found.append(child)
            found.extend(locations(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(locations(child))
    return found


def test_scim_locations_ignore_forged_host_and_proto_headers(scim: Scim) -> None:
    created = scim.create_user("forged.host@acme.test", headers=FORGED)
    assert created.status == 201, created.body
    user = created.body
    assert user["meta"]["location"] == f"{BASE}/scim/v2/Users/{user['id']}"
    assert {k.lower(): v for k, v in created.headers.items()}["location"] == user["meta"]["location"]

    answers: list[Any] = [user]
    for path in (
        f"/Users/{user['id']}",
        "/Users",
        "/Groups",
        "/ServiceProviderConfig",
        "/Schemas",
        "/ResourceTypes",
    ):
        got = scim.get(path, headers=FORGED)
        assert got.status == 200, (path, got.body)
        answers.append(got.body)
    replaced = scim.put(
        f"/Users/{user['id']}",
        {**{k: v for k, v in user.items() if k not in ("meta",)}, "displayName": "Renamed"},
        headers=FORGED,
    )
    assert replaced.status == 200, replaced.body
    answers.append(replaced.body)

    found = [loc for answer in answers for loc in locations(answer)]
    assert len(found) > 5
    text = json.dumps(answers)
    assert "attacker.example" not in text and "javascript" not in text
    assert all(loc.startswith(f"{BASE}/scim/v2/") for loc in found), found


def test_no_api_or_console_answer_echoes_a_forged_host(api: Api, seed: Seed) -> None:
    """Every other Location the app answers is a path on this site (console redirects) or absent."""
    for method, path in (("POST", "/v1/orgs"), ("GET", "/orgs/x/tokens"), ("GET", "/profile"), ("GET", "/")):
        body = json.dumps({"name": "Org"}) if method == "POST" else None
        got = api.call(method, path, seed.admin.key, body=body, headers={**FORGED, "Content-Type": "application/json"})
        assert "attacker.example" not in json.dumps([got.headers, got.body]), (path, got.headers)
        location = {k.lower(): v for k, v in got.headers.items()}.get("location")
        assert location is None or location.startswith("/"), location
