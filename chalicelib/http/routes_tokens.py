"""Routes: organization access tokens (own and, for admins, a member's) and verification.

``POST /v1/tokens/verify`` takes no credential, by choice: the caller must
already hold the token, which is 256 random bits (guessing is hopeless,
and an unknown token costs one read), and the answer tells that holder
only the org, account, id and expiry of their own token. A per-channel
server credential would add a lookup to the hot path and a secret to
distribute without protecting anything the token itself does not; rate
limits belong to API Gateway (usage plans/WAF) in front of this route.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.roles import Scope
from ..services import tokens
from . import schemas_tokens
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)

TOKEN_ERRORS = ("not_found", "forbidden")


def _out(token: tokens.AccessToken) -> schemas_tokens.TokenOut:
    return schemas_tokens.TokenOut(
        token_id=token.token_id,
        org_id=token.org_id,
        account_id=token.account_id,
        name=token.name,
        status=token.status(),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        revoked_reason=token.revoked_reason,
        created_by=_issuer(token),
    )


def _issuer(token: tokens.AccessToken) -> schemas_tokens.TokenIssuer | None:
    issuer = token.issuer
    return schemas_tokens.TokenIssuer(kind=issuer[0], account_id=issuer[1]) if issuer else None


def _created(issued: tuple[tokens.AccessToken, str]) -> schemas_tokens.TokenCreated:
    token, secret = issued
    return schemas_tokens.TokenCreated(**_out(token).model_dump(), secret=secret)


def _list(page: Any) -> schemas_tokens.TokenList:
    return schemas_tokens.TokenList(items=[_out(t) for t in page.items], next_cursor=page.next_cursor)


@api_route(
    bp,
    "/v1/orgs/{org_id}/tokens",
    "POST",
    summary="Issue yourself an access token (needs a seat); the secret is shown once",
    body=schemas_tokens.IssueToken,
    response=schemas_tokens.TokenCreated,
    status=201,
    errors=(*TOKEN_ERRORS, "seat_required", "invalid_request"),
)
def issue_own_token(req: ApiRequest, org_id: str) -> schemas_tokens.TokenCreated:
    b: schemas_tokens.IssueToken = req.body
    return _created(tokens.issue_own(org_id, req.actor, b.name, b.expires_at))


@api_route(
    bp,
    "/v1/orgs/{org_id}/tokens",
    "GET",
    summary="Your access tokens in this org (no secrets)",
    query=schemas_tokens.TokenQuery,
    response=schemas_tokens.TokenList,
    errors=TOKEN_ERRORS,
)
def list_own_tokens(req: ApiRequest, org_id: str) -> schemas_tokens.TokenList:
    return _list(tokens.list_own(org_id, req.actor, req.query.limit, req.query.cursor))


@api_route(
    bp,
    "/v1/orgs/{org_id}/tokens/{token_id}",
    "DELETE",
    summary="Revoke one of your access tokens",
    status=204,
    errors=TOKEN_ERRORS,
)
def revoke_own_token(req: ApiRequest, org_id: str, token_id: str) -> None:
    tokens.revoke_own(org_id, req.actor, token_id)


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/tokens",
    "POST",
    scope=Scope.TOKENS_ISSUE,
    summary="Issue an access token for a seated member; the secret is shown once",
    body=schemas_tokens.IssueToken,
    response=schemas_tokens.TokenCreated,
    status=201,
    errors=(*TOKEN_ERRORS, "seat_required", "invalid_request"),
)
def issue_member_token(req: ApiRequest, org_id: str, account_id: str) -> schemas_tokens.TokenCreated:
    b: schemas_tokens.IssueToken = req.body
    return _created(tokens.issue_for(org_id, req.actor, account_id, b.name, b.expires_at))


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/tokens",
    "GET",
    scope=Scope.TOKENS_ISSUE,
    summary="A member's access tokens (no secrets)",
    query=schemas_tokens.TokenQuery,
    response=schemas_tokens.TokenList,
    errors=TOKEN_ERRORS,
)
def list_member_tokens(req: ApiRequest, org_id: str, account_id: str) -> schemas_tokens.TokenList:
    return _list(tokens.list_for(org_id, req.actor, account_id, req.query.limit, req.query.cursor))


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}",
    "PATCH",
    scope=Scope.TOKENS_ISSUE,
    summary="Renew a member's access token (new expiry)",
    body=schemas_tokens.RenewToken,
    response=schemas_tokens.TokenOut,
    errors=(*TOKEN_ERRORS, "invalid_request", "token_revoked"),
)
def renew_member_token(req: ApiRequest, org_id: str, account_id: str, token_id: str) -> schemas_tokens.TokenOut:
    return _out(tokens.renew(org_id, req.actor, account_id, token_id, req.body.expires_at))


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}",
    "DELETE",
    scope=Scope.TOKENS_ISSUE,
    summary="Revoke a member's access token",
    status=204,
    errors=TOKEN_ERRORS,
)
def revoke_member_token(req: ApiRequest, org_id: str, account_id: str, token_id: str) -> None:
    tokens.revoke_for(org_id, req.actor, account_id, token_id)


@api_route(
    bp,
    "/v1/tokens/verify",
    "POST",
    summary="Token introspection for channel servers (RFC 7662 shape); always 200 for a well-formed body",
    auth="none",
    body=schemas_tokens.VerifyToken,
    response=schemas_tokens.VerifyResult,
    errors=("invalid_request",),
)
def verify_token(req: ApiRequest) -> dict[str, Any]:
    b: schemas_tokens.VerifyToken = req.body
    return tokens.verify(b.token, b.org_id)
