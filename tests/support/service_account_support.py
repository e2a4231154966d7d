"""Service accounts for tests: create one through the API and buy it a token at the token endpoint."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from tests.support.helpers import Api, Resp

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Client:
    client_id: str
    client_secret: str
    secret_id: str


def create(api: Api, org_id: str, admin_key: str, scopes: list[str], name: str = "robot") -> Client:
    r = api.post(f"/v1/orgs/{org_id}/service-accounts", admin_key, {"name": name, "scopes": scopes})
    assert r.status == 201, r.body
    return Client(r.body["client_id"], r.body["client_secret"], r.body["secret_id"])


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token_call(api: Api, fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Resp:
    """POST /v1/oauth/token with a form body (``fields`` as given) and extra headers."""
    body = urlencode(fields or {})
    return api.call("POST", "/v1/oauth/token", body=body, headers={**FORM, **(headers or {})})


def grant(api: Api, client: Client, scope: str | None = None, *, use_basic: bool = True) -> Resp:
    fields: dict[str, str] = {"grant_type": "client_credentials"}
    if scope is not None:
        fields["scope"] = scope
    if use_basic:
        return token_call(api, fields, basic(client.client_id, client.client_secret))
    return token_call(api, {**fields, "client_id": client.client_id, "client_secret": client.client_secret})


def token_for(api: Api, org_id: str, admin_key: str, scopes: list[str]) -> tuple[Client, str]:
    client = create(api, org_id, admin_key, scopes)
    r = grant(api, client)
    assert r.status == 200, r.body
    return client, str(r.body["access_token"])
