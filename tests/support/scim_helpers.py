"""Helpers for SCIM tests: an org's SCIM token and a SCIM-speaking client over the app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.models import Actor
from chalicelib.services import scim_tokens
from tests.support.helpers import Api, Resp, Seed

SCIM = "/scim/v2"
SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def issue_scim_token(seed: Seed, org_id: str | None = None) -> tuple[str, str]:
    """(token id, secret) for the seed org (or the outsider's org)."""
    org = org_id or seed.org_id
    admin = seed.admin if org == seed.org_id else seed.outsider
    actor = Actor(actor=f"account:{admin.account_id}", request_id="test", account_id=admin.account_id)
    token, secret = scim_tokens.issue(org, actor, "idp")
    return token.token_id, secret


@dataclass
class Scim:
    api: Api
    token: str

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Resp:
        sent = {"Content-Type": SCIM_JSON, "Accept": SCIM_JSON}
        sent.update(headers or {})
        return self.api.call(
            method, SCIM + path, self.token, body=json.dumps(body) if body is not None else None, headers=sent
        )

    def get(self, path: str, **kw: Any) -> Resp:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Resp:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> Resp:
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, operations: list[dict[str, Any]], **kw: Any) -> Resp:
        return self.call("PATCH", path, {"schemas": [PATCH_OP], "Operations": operations}, **kw)

    def delete(self, path: str, **kw: Any) -> Resp:
        return self.call("DELETE", path, **kw)

    def create_user(self, email: str, active: bool = True, **extra: Any) -> Resp:
        return self.post("/Users", {"schemas": [USER_SCHEMA], "userName": email, "active": active, **extra})
