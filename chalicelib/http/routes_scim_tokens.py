"""Routes: an org's SCIM bearer tokens (admins only; the secret is shown once)."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint
from pydantic import BaseModel, Field

from ..services import scim_tokens
from .routing import ApiRequest, api_route
from .schemas import Name, RequestModel

bp = Blueprint(__name__)


class CreateScimToken(RequestModel):
    name: Name


class ScimTokenOut(BaseModel):
    token_id: str
    name: str
    status: str
    created_at: datetime
    created_by: str | None = None
    revoked_at: datetime | None = None


class ScimTokenCreated(ScimTokenOut):
    secret: str = Field(description="The SCIM bearer token (osc_...). Shown once; store it in the identity provider.")


class ScimTokenList(BaseModel):
    items: list[ScimTokenOut]


def _out(token: scim_tokens.ScimToken) -> ScimTokenOut:
    return ScimTokenOut(
        token_id=token.token_id,
        name=token.name,
        status=token.status,
        created_at=token.created_at,
        created_by=token.created_by,
        revoked_at=token.revoked_at,
    )


@api_route(
    bp,
    "/v1/orgs/{org_id}/scim-tokens",
    "POST",
    summary="Create a SCIM bearer token for the org's identity provider",
    body=CreateScimToken,
    response=ScimTokenCreated,
    status=201,
    errors=("not_found", "forbidden"),
)
def create_scim_token(req: ApiRequest, org_id: str) -> ScimTokenCreated:
    token, secret = scim_tokens.issue(org_id, req.actor, req.body.name)
    return ScimTokenCreated(**_out(token).model_dump(), secret=secret)


@api_route(
    bp,
    "/v1/orgs/{org_id}/scim-tokens",
    "GET",
    summary="List the org's SCIM tokens (no secrets)",
    response=ScimTokenList,
    errors=("not_found", "forbidden"),
)
def list_scim_tokens(req: ApiRequest, org_id: str) -> ScimTokenList:
    return ScimTokenList(items=[_out(t) for t in scim_tokens.list_tokens(org_id, req.actor)])


@api_route(
    bp,
    "/v1/orgs/{org_id}/scim-tokens/{token_id}",
    "DELETE",
    summary="Revoke a SCIM token",
    status=204,
    errors=("not_found", "forbidden"),
)
def revoke_scim_token(req: ApiRequest, org_id: str, token_id: str) -> None:
    scim_tokens.revoke(org_id, req.actor, token_id)
