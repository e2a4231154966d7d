"""Routes: organizations and their purchased seat capacity."""

from __future__ import annotations

from chalice import Blueprint

from ..domain.roles import Scope
from ..services import accounts, orgs
from . import present, schemas
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/v1/orgs",
    "POST",
    summary="Create an organization; the caller becomes its account_admin",
    body=schemas.CreateOrg,
    response=schemas.OrgOut,
    status=201,
    errors=("org_name_not_allowed",),
)
def create_org(req: ApiRequest) -> schemas.OrgOut:
    assert req.principal is not None
    admin = accounts.get(req.principal.account_id)
    assert admin is not None
    org = orgs.create_org(req.actor, req.body.name, admin=admin)
    return present.org(org, "account_admin")


@api_route(
    bp,
    "/v1/orgs/{org_id}",
    "GET",
    scope=Scope.MEMBERS_READ,
    summary="An organization with seat usage",
    response=schemas.OrgOut,
    errors=("not_found",),
)
def get_org(req: ApiRequest, org_id: str) -> schemas.OrgOut:
    org, caller = orgs.get_org(org_id, req.actor)
    return present.org(org, caller.role.value if caller else None)


@api_route(
    bp,
    "/v1/orgs/{org_id}",
    "PATCH",
    summary="Rename an organization",
    body=schemas.RenameOrg,
    response=schemas.OrgOut,
    errors=("not_found", "forbidden", "org_name_not_allowed"),
)
def rename_org(req: ApiRequest, org_id: str) -> schemas.OrgOut:
    org, caller = orgs.rename(org_id, req.actor, req.body.name)
    return present.org(org, caller.role.value if caller else None)


@api_route(
    bp,
    "/v1/orgs/{org_id}/seats",
    "PUT",
    summary="Set the purchased seat count",
    body=schemas.SetCapacity,
    response=schemas.OrgOut,
    errors=("not_found", "forbidden", "capacity_below_usage"),
)
def set_seat_capacity(req: ApiRequest, org_id: str) -> schemas.OrgOut:
    org, caller = orgs.set_capacity(org_id, req.actor, req.body.capacity)
    return present.org(org, caller.role.value if caller else None)
