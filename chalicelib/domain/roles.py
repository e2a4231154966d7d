"""Roles and the permission table of docs/api.md, as data.

Authorization is a lookup in ``ROLE_PERMISSIONS``; services call
``require(role, permission)`` and never compare role names themselves.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import Forbidden


class Role(StrEnum):
    ACCOUNT_ADMIN = "account_admin"
    BILLING_MANAGER = "billing_manager"
    MEMBER = "member"


class Permission(StrEnum):
    READ_ORG = "read_org"
    UPDATE_ORG = "update_org"
    SET_CAPACITY = "set_capacity"
    READ_MEMBERS = "read_members"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_ROLES = "manage_roles"
    MANAGE_SEATS = "manage_seats"
    MANAGE_INVITATIONS = "manage_invitations"
    OWN_TOKENS = "own_tokens"
    MANAGE_TOKENS = "manage_tokens"
    READ_AUDIT = "read_audit"
    MANAGE_SCIM = "manage_scim"
    MANAGE_DOMAINS = "manage_domains"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ACCOUNT_ADMIN: frozenset(Permission),
    Role.BILLING_MANAGER: frozenset(
        {Permission.READ_ORG, Permission.READ_MEMBERS, Permission.SET_CAPACITY, Permission.OWN_TOKENS}
    ),
    Role.MEMBER: frozenset({Permission.READ_ORG, Permission.OWN_TOKENS}),
}


def roles_with(permission: Permission) -> list[Role]:
    """Every role that carries a permission (for conditions on a stored role)."""
    return [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]


def allows(role: Role, permission: Permission) -> bool:
    """Whether a role carries a permission."""
    return permission in ROLE_PERMISSIONS[role]


def require(role: Role, permission: Permission) -> None:
    """Raise Forbidden unless the role carries the permission."""
    if not allows(role, permission):
        raise Forbidden(f"Your role ({role.value}) does not allow this ({permission.value}).")
