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
    MANAGE_SERVICE_ACCOUNTS = "manage_service_accounts"


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


class Scope(StrEnum):
    """What a service account may be granted (README "Service accounts")."""

    INVITATIONS_WRITE = "invitations:write"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    SEATS_WRITE = "seats:write"
    TOKENS_ISSUE = "tokens:issue"
    AUDIT_READ = "audit:read"


# The permissions each scope carries inside the service account's own org. Nothing grants
# UPDATE_ORG, SET_CAPACITY, MANAGE_SCIM, MANAGE_DOMAINS, MANAGE_SERVICE_ACCOUNTS or OWN_TOKENS:
# a service account never renames the org, buys seats, manages credentials or owns tokens.
SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.INVITATIONS_WRITE: frozenset({Permission.MANAGE_INVITATIONS}),
    Scope.MEMBERS_READ: frozenset({Permission.READ_ORG, Permission.READ_MEMBERS}),
    Scope.MEMBERS_WRITE: frozenset({Permission.MANAGE_MEMBERS, Permission.MANAGE_ROLES}),
    Scope.SEATS_WRITE: frozenset({Permission.MANAGE_SEATS}),
    Scope.TOKENS_ISSUE: frozenset({Permission.MANAGE_TOKENS}),
    Scope.AUDIT_READ: frozenset({Permission.READ_AUDIT}),
}


def scope_permissions(scopes: frozenset[Scope]) -> frozenset[Permission]:
    """Every permission a set of scopes carries; reading the org itself comes with any of them
    (a write checks it first). Which routes a scope opens is the route registry's ``scope``."""
    return frozenset({Permission.READ_ORG}).union(*(SCOPE_PERMISSIONS[s] for s in scopes))
