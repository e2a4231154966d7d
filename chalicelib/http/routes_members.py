"""Routes: members and roles."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..domain.roles import Scope
from ..services import members
from . import present, schemas
from .routing import ApiRequest, api_route, to_response

bp = Blueprint(__name__)


@api_route(
    bp,
    "/v1/orgs/{org_id}/members",
    "GET",
    scope=Scope.MEMBERS_READ,
    summary="List members (filters: role, seat, email_prefix)",
    query=schemas.MemberQuery,
    response=schemas.MemberList,
    errors=("not_found", "forbidden"),
)
def list_members(req: ApiRequest, org_id: str) -> schemas.MemberList:
    q: schemas.MemberQuery = req.query
    result = members.list_members(
        org_id, req.actor, role=q.role, seat=q.seat, email_prefix=q.email_prefix, limit=q.limit, cursor=q.cursor
    )
    return schemas.MemberList(items=[present.member(m) for m in result.items], next_cursor=result.next_cursor)


@api_route(
    bp,
    "/v1/orgs/{org_id}/members",
    "POST",
    scope=Scope.MEMBERS_WRITE,
    summary="Add a member: directly (201) on the org's verified domains, else by invitation (202)",
    body=schemas.AddMember,
    response=schemas.MemberAdded,
    status=201,
    also=(202,),
    errors=("not_found", "forbidden", "already_member", "seat_limit_reached", "invitation_quota_exceeded"),
)
def add_member(req: ApiRequest, org_id: str) -> Response:
    b: schemas.AddMember = req.body
    outcome = members.add_member(org_id, req.actor, b.email, b.role, seat=b.assign_seat, principal=req.principal)
    body = schemas.MemberAdded(
        status=outcome.status,
        org_id=org_id,
        email=outcome.email,
        role=outcome.role,
        seat=bool(outcome.member and outcome.member.has_seat),
        account_id=outcome.member.account_id if outcome.member else None,
        invitation_id=outcome.invitation_id,
    )
    return to_response(body, 201 if outcome.member else 202)


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}",
    "GET",
    scope=Scope.MEMBERS_READ,
    summary="One member (admins, billing managers, or self)",
    response=schemas.MemberOut,
    errors=("not_found", "forbidden"),
)
def get_member(req: ApiRequest, org_id: str, account_id: str) -> schemas.MemberOut:
    return present.member(members.get_member(org_id, req.actor, account_id))


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/role",
    "PUT",
    scope=Scope.MEMBERS_WRITE,
    summary="Change a member's role",
    body=schemas.ChangeRole,
    response=schemas.MemberOut,
    errors=("not_found", "forbidden", "cannot_change_own_role", "last_admin", "conflict"),
)
def change_role(req: ApiRequest, org_id: str, account_id: str) -> schemas.MemberOut:
    return present.member(members.change_role(org_id, req.actor, account_id, req.body.role))


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}",
    "DELETE",
    scope=Scope.MEMBERS_WRITE,
    summary="Remove a member (admin) or leave (self); frees the seat and ends the member's tokens",
    status=204,
    errors=("not_found", "forbidden", "last_admin", "conflict"),
)
def remove_member(req: ApiRequest, org_id: str, account_id: str) -> None:
    members.remove_member(org_id, req.actor, account_id)
