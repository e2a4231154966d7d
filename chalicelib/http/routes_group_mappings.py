"""Routes: what an org's SCIM groups grant (admins only).

A mapping gives a pushed group a role and/or a seat; its members get them
at once, and lose them when they leave the group or the mapping goes. The
rules (highest role wins, the seat while any seat-granting group holds the
member) are in services/group_access.py.
"""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint
from pydantic import BaseModel, Field, field_validator

from ..domain.groups import StoredGroup
from ..domain.roles import Role
from ..services import groups
from .routing import ApiRequest, api_route
from .schemas import RequestModel

bp = Blueprint(__name__)

PATH = "/v1/orgs/{org_id}/scim/group-mappings"


class PutGroupMapping(RequestModel):
    group: str = Field(min_length=1, max_length=256, description="The group's SCIM id or its displayName (any case).")
    role: Role | None = Field(
        default=None, description="The role the group's members get (the highest wins); omit it for none."
    )
    seat: bool = Field(default=False, description="Whether the group's members hold a seat.")

    @field_validator("role", mode="before")
    @classmethod
    def _omitted_not_null(cls, value: object) -> object:
        """No role is said by leaving ``role`` out; an explicit null is more likely a client's bug."""
        if value is None:
            raise ValueError("leave role out for a group that grants no role")
        return value


class GroupMappingOut(BaseModel):
    group_id: str
    display_name: str
    external_id: str | None = None
    role: Role | None = None
    seat: bool
    built_in: bool = Field(description="One of the three built-in groups, whose mapping is fixed.")
    updated_at: datetime | None = None


class GroupMappingList(BaseModel):
    items: list[GroupMappingOut]


def _out(group: StoredGroup) -> GroupMappingOut:
    return GroupMappingOut(
        group_id=group.group_id,
        display_name=group.display_name,
        external_id=group.external_id,
        role=group.role,
        seat=group.seat,
        built_in=False,
        updated_at=group.updated_at,
    )


def _built_in() -> list[GroupMappingOut]:
    return [
        GroupMappingOut(group_id=gid, display_name=name, role=role, seat=role is None, built_in=True)
        for gid, (name, role) in groups.BUILT_IN_GROUPS.items()
    ]


@api_route(
    bp,
    PATH,
    "GET",
    summary="List the org's SCIM groups and what each grants",
    response=GroupMappingList,
    errors=("not_found", "forbidden"),
)
def list_group_mappings(req: ApiRequest, org_id: str) -> GroupMappingList:
    return GroupMappingList(items=[*_built_in(), *(_out(g) for g in groups.list_mappings(org_id, req.actor))])


@api_route(
    bp,
    PATH,
    "PUT",
    summary="Map a SCIM group (by id or displayName) to a role and/or a seat; its members get them now",
    body=PutGroupMapping,
    response=GroupMappingOut,
    errors=("invalid_request", "not_found", "forbidden", "seat_limit_reached", "last_admin"),
)
def put_group_mapping(req: ApiRequest, org_id: str) -> GroupMappingOut:
    body: PutGroupMapping = req.body
    return _out(groups.set_mapping(org_id, req.actor, body.group, body.role, body.seat))


@api_route(
    bp,
    PATH + "/{group_id}",
    "DELETE",
    summary="Remove a SCIM group's mapping: what it granted its members goes",
    status=204,
    errors=("invalid_request", "not_found", "forbidden", "last_admin"),
)
def delete_group_mapping(req: ApiRequest, org_id: str, group_id: str) -> None:
    groups.remove_mapping(org_id, req.actor, group_id)
