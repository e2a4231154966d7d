"""Routes: the caller's account and personal API keys."""

from __future__ import annotations

from chalice import Blueprint

from ..services import accounts, keys, members, orgs
from . import present, schemas
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)


@api_route(bp, "/v1/me", "GET", summary="The caller's account and memberships", response=schemas.MeOut)
def get_me(req: ApiRequest) -> schemas.MeOut:
    assert req.principal is not None
    account = accounts.get(req.principal.account_id)
    assert account is not None
    joined = members.memberships_of(account.account_id)
    names = orgs.names_of(m.org_id for m in joined)
    memberships = [
        schemas.MembershipOut(org_id=m.org_id, org_name=names[m.org_id], role=m.role, seat=m.has_seat) for m in joined
    ]
    return schemas.MeOut(
        account_id=account.account_id,
        email=account.email,
        name=account.name,
        created_at=account.created_at,
        memberships=memberships,
    )


@api_route(
    bp,
    "/v1/me/api-keys",
    "POST",
    summary="Create a personal API key (secret shown once)",
    body=schemas.CreateApiKey,
    response=schemas.ApiKeyCreated,
    status=201,
)
def create_api_key(req: ApiRequest) -> schemas.ApiKeyCreated:
    assert req.principal is not None
    key, secret = keys.issue(req.principal.account_id, req.body.name, expires_at=req.body.expires_at)
    return schemas.ApiKeyCreated(**present.api_key(key).model_dump(), secret=secret)


@api_route(bp, "/v1/me/api-keys", "GET", summary="List personal API keys (no secrets)", response=schemas.ApiKeyList)
def list_api_keys(req: ApiRequest) -> schemas.ApiKeyList:
    assert req.principal is not None
    return schemas.ApiKeyList(items=[present.api_key(k) for k in keys.list_keys(req.principal.account_id)])


@api_route(
    bp, "/v1/me/api-keys/{key_id}", "DELETE", summary="Revoke a personal API key", status=204, errors=("not_found",)
)
def revoke_api_key(req: ApiRequest, key_id: str) -> None:
    assert req.principal is not None
    keys.revoke(req.principal.account_id, key_id)
