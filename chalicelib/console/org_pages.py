"""What every page of one organization shares: the caller's membership, the org's name, and its navigation.

The navigation shows only what the caller's role may use (a member sees
Token Access only; a billing manager also Users, read-only, and Settings for
the seat capacity); a page the role may not open answers the 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.models import Member
from ..domain.roles import Permission, Role, allows
from ..services import members, orgs
from .web import PageRequest


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str
    group: str | None = None  # "User Management" items are grouped under that heading


def navigation(org_id: str, role: Role) -> list[NavItem]:
    base = f"/orgs/{org_id}"
    items = [
        (
            NavItem("invitations", "Invitations", f"{base}/invitations", "User Management"),
            Permission.MANAGE_INVITATIONS,
        ),
        (NavItem("users", "Users", f"{base}/users", "User Management"), Permission.READ_MEMBERS),
        (NavItem("tokens", "Token Access", f"{base}/tokens"), Permission.OWN_TOKENS),
        (NavItem("audit", "Audit Log", f"{base}/audit-log"), Permission.READ_AUDIT),
        (NavItem("settings", "Settings", f"{base}/settings"), Permission.SET_CAPACITY),
    ]
    return [item for item, needed in items if allows(role, needed)]


@dataclass(frozen=True)
class OrgPage:
    """The caller's membership in the org and the context every org page's template needs."""

    member: Member
    org_name: str

    def context(self, nav: str, title: str, **extra: Any) -> dict[str, Any]:
        return {
            "title": f"{title} · {self.org_name}",
            "org_id": self.member.org_id,
            "org_name": self.org_name,
            "member": self.member,
            "nav": nav,
            "nav_items": navigation(self.member.org_id, self.member.role),
            **extra,
        }


def open_org(req: PageRequest, org_id: str, permission: Permission) -> OrgPage:
    """Authorize the caller for one page of an org: strangers get 404, a role without the permission 403."""
    member = members.authorize(org_id, req.actor, permission)
    assert member is not None  # console callers are people, never org-bound credentials
    return OrgPage(member=member, org_name=orgs.name_of(org_id) or org_id)
