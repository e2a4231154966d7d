"""SCIM resources of an org: the published schemas and member <-> User mapping.

The User schema we publish is the core User schema cut down to what we
store (userName, name, displayName, emails, active, plus the common
externalId): clients and scim2-tester build their models from it, so what
we publish is exactly what round-trips. Two deliberate departures:
``userName`` is the account's email, an identity shared by every org the
person belongs to, so it is ``immutable`` here (an org's IdP must not
rename an account other orgs use); ``active`` is the seat, always present,
so it is ``required``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scim2_models import (
    Context,
    EnterpriseUser,
    Group,
    Mutability,
    Required,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    User,
)

from ..domain.groups import StoredGroup
from ..domain.models import Member
from ..services.groups import BUILT_IN_GROUPS

# Inbound payloads may carry the enterprise extension (Entra ID sends it): it is accepted
# and parsed so its paths resolve, but not stored nor published.
UserResource = User[EnterpriseUser]
USER_URN = str(User.__schema__)
GROUP_URN = str(Group.__schema__)
USER_ATTRIBUTES = {"userName": None, "name": {"formatted", "familyName", "givenName"}, "displayName": None}
USER_ATTRIBUTES |= {"active": None, "emails": {"value", "type", "primary"}}
PROFILE_KEYS = ("name", "displayName", "emails")


def _cut(schema: Schema, keep: dict[str, set[str] | None]) -> Schema:
    attributes = []
    for attribute in schema.attributes or []:
        if attribute.name not in keep:
            continue
        subs = keep[attribute.name]
        if subs is not None and attribute.sub_attributes:
            attribute.sub_attributes = [s for s in attribute.sub_attributes if s.name in subs]
        attributes.append(attribute)
    schema.attributes = attributes
    return schema


def user_schema() -> Schema:
    schema = _cut(User.to_schema(), USER_ATTRIBUTES)
    for attribute in schema.attributes or []:
        if attribute.name == "userName":
            attribute.mutability = Mutability.immutable
        if attribute.name == "active":
            attribute.required = Required.true
    return schema


def group_schema() -> Schema:
    """displayName is required: it is how groups are told apart (unique per org, any letter case).
    Members are value, $ref and type: a ``display`` sent by the IdP is not stored, so it is not published."""
    schema = _cut(Group.to_schema(), {"displayName": None, "members": {"value", "$ref", "type"}})
    for attribute in schema.attributes or []:
        if attribute.name == "displayName":
            attribute.required = Required.true
    return schema


def schemas() -> list[Schema]:
    """Everything /Schemas lists: our resources and the discovery schemas themselves."""
    return [user_schema(), group_schema()] + [
        model.to_schema() for model in (ServiceProviderConfig, ResourceType, Schema)
    ]


def resource_types(base_url: str) -> list[ResourceType]:
    return [
        ResourceType.model_validate(
            {
                "id": name,
                "name": name,
                "endpoint": f"/{name}s",
                "description": description,
                "schema": urn,
                "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{name}"},
            }
        )
        for name, urn, description in (
            ("User", USER_URN, "A member of the organization; active means holding a seat."),
            ("Group", GROUP_URN, "Groups the IdP pushes (mapped to roles and seats) and three built-in ones."),
        )
    ]


def version_of(payload: dict[str, Any]) -> str:
    """Weak ETag from the representation itself: it changes exactly when the resource does."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def profile_of(item: Member) -> dict[str, Any]:
    if not item.scim_profile:
        return {}
    value = json.loads(item.scim_profile)
    return value if isinstance(value, dict) else {}


def to_user(item: Member, base_url: str) -> User[Any]:
    payload: dict[str, Any] = {
        "schemas": [USER_URN],
        "id": item.account_id,
        "externalId": item.external_id,
        "userName": item.email,
        "active": item.has_seat,
        **profile_of(item),
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    payload["meta"] = {
        "resourceType": "User",
        "created": item.joined_at.isoformat(),
        "lastModified": item.updated_at.isoformat(),
        "location": f"{base_url}/Users/{item.account_id}",
        "version": version_of(payload),
    }
    return UserResource.model_validate(payload)


def stored_profile(user: User[Any]) -> dict[str, Any]:
    """The profile attributes of a User as we store them (SCIM JSON, empty values dropped)."""
    dumped = user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return {k: dumped[k] for k in PROFILE_KEYS if dumped.get(k) not in (None, [], {})}


def group_holds(group_id: str, item: Member) -> bool:
    """Whether a member belongs to a built-in group: its role, or its seat for Seat Holders."""
    role = BUILT_IN_GROUPS[group_id][1]
    return item.role is role if role is not None else item.has_seat


def _members(holders: list[Member], base_url: str) -> list[dict[str, Any]]:
    return [
        {"value": i.account_id, "$ref": f"{base_url}/Users/{i.account_id}", "type": "User"}
        for i in sorted(holders, key=lambda i: i.account_id)
    ]


def to_pushed_group(group: StoredGroup, holders: list[Member] | None, base_url: str) -> Group:
    """A group the IdP pushed; its ETag is its revision (raised by every change), members read or not."""
    payload: dict[str, Any] = {"schemas": [GROUP_URN], "id": group.group_id, "displayName": group.display_name}
    if group.external_id:
        payload["externalId"] = group.external_id
    if holders is not None:
        payload["members"] = _members(holders, base_url)
    payload["meta"] = {
        "resourceType": "Group",
        "created": group.created_at.isoformat(),
        "lastModified": group.updated_at.isoformat(),
        "location": f"{base_url}/Groups/{group.group_id}",
        "version": version_of({"id": group.group_id, "revision": int(group.revision)}),
    }
    return Group.model_validate(payload)


def to_group(group_id: str, holders: list[Member] | None, created: Any, base_url: str) -> Group:
    """A built-in group; ``holders`` None leaves members out (excluded by the client)."""
    payload: dict[str, Any] = {"schemas": [GROUP_URN], "id": group_id, "displayName": BUILT_IN_GROUPS[group_id][0]}
    if holders is not None:
        payload["members"] = _members(holders, base_url)
    meta: dict[str, Any] = {"resourceType": "Group", "location": f"{base_url}/Groups/{group_id}"}
    if created is not None:
        meta["created"] = created.isoformat()
    if holders is not None:
        meta["version"] = version_of(payload)
    payload["meta"] = meta
    return Group.model_validate(payload)
