"""SCIM Groups: the three built-in groups of every org.

"Account Admins" and "Billing Managers" are roles: joining sets the role,
leaving demotes to member. "Seat Holders" is the seat: joining assigns one
(400 when none is free), leaving revokes it. Groups cannot be created,
renamed or deleted (403). The member rules still hold through the
services: the last admin cannot leave (409), capacity is never exceeded.

A PATCH or PUT that changes several members applies one transaction per
member (joins, then leaves); when one is refused (last admin, out of
seats), the error answers and the changes before it stay, each consistent
and audited. Identity providers send one member per operation in practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim2_models import Context, Group, MutabilityException

from ..domain.errors import InvalidRequest, NotFound, SeatLimitReached
from ..domain.models import Actor
from ..domain.roles import Role
from ..services import members
from ..storage.members import MemberModel
from ..storage.orgs import OrgModel
from . import seat_port
from .filters import names_attribute, parse_group_filter
from .resources import BUILT_IN_GROUPS, group_holds, to_group
from .users import OUT_OF_SEATS, check_version, patched

BUILT_IN = "Groups are built in (Account Admins, Billing Managers, Seat Holders); they cannot be created or deleted."


@dataclass(frozen=True)
class GroupPage:
    total: int
    start_index: int
    groups: list[Group]


def _created(org_id: str) -> Any:
    org = OrgModel.get(org_id)
    return org.created_at


def _holders(org_id: str, group_id: str) -> list[MemberModel]:
    return [i for i in MemberModel.query(org_id, consistent_read=True) if group_holds(group_id, i)]


def _check_id(group_id: str) -> None:
    if group_id not in BUILT_IN_GROUPS:
        raise NotFound("No such group.")


def get(org_id: str, group_id: str, base_url: str, with_members: bool = True) -> Group:
    _check_id(group_id)
    holders = _holders(org_id, group_id) if with_members else None
    return to_group(group_id, holders, _created(org_id), base_url)


def search(
    org_id: str, base_url: str, filter_text: str | None, start_index: int, count: int, with_members: bool
) -> GroupPage:
    """Filtered, 1-based page of the built-in groups.

    The org's members are read only when the filter names members (or meta),
    or when the page holds a group and the client wants members: a filter
    such as ``userName eq "x"`` on /.search matches no group and reads none.
    """
    scim_filter = parse_group_filter(filter_text)
    # meta.version is a digest of the members, so a filter on meta needs them too.
    filter_needs_members = names_attribute(scim_filter, "members", "meta")
    everyone = list(MemberModel.query(org_id, consistent_read=True)) if filter_needs_members else None
    created = _created(org_id)

    def build(gid: str) -> Group:
        holders = [i for i in everyone if group_holds(gid, i)] if everyone is not None else None
        return to_group(gid, holders, created, base_url)

    groups = [build(gid) for gid in BUILT_IN_GROUPS]
    if scim_filter is not None:
        groups = [g for g in groups if scim_filter.match(g)]
    first = max(start_index, 1) - 1
    page = groups[first : first + count]
    if with_members and page and everyone is None:
        everyone = list(MemberModel.query(org_id, consistent_read=True))
        page = [build(g.id or "") for g in page]
    if not with_members:
        for group in page:
            group.members = None
    return GroupPage(total=len(groups), start_index=first + 1, groups=page)


def patch(
    org_id: str, actor: Actor, base_url: str, group_id: str, payload: dict[str, Any], if_match: str | None
) -> Group:
    """Apply the operations to the group's member list, then make the difference real."""
    current = get(org_id, group_id, base_url)
    wanted = patched(current, payload, if_match)
    return _converge(org_id, actor, base_url, current, wanted)


def replace(
    org_id: str, actor: Actor, base_url: str, group_id: str, payload: dict[str, Any], if_match: str | None
) -> Group:
    current = get(org_id, group_id, base_url)
    check_version(current, if_match)
    wanted = Group.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    if wanted.display_name is None:
        wanted.display_name = current.display_name
    return _converge(org_id, actor, base_url, current, wanted)


def _ids(group: Group) -> set[str]:
    return {m.value for m in group.members or [] if m.value}


def _converge(org_id: str, actor: Actor, base_url: str, current: Group, wanted: Group) -> Group:
    """Joins first, then leaves: replacing the admins never passes through zero admins."""
    group_id = current.id or ""
    if wanted.display_name != current.display_name:
        raise MutabilityException(detail="Built-in groups cannot be renamed.")
    joining = sorted(_ids(wanted) - _ids(current))
    leaving = sorted(_ids(current) - _ids(wanted))
    for account_id in joining:
        if members.get_item(org_id, account_id) is None:
            raise InvalidRequest(f"No such user: {account_id}.")
    role = BUILT_IN_GROUPS[group_id][1]
    for account_id in joining:
        if role is not None:
            members.change_role(org_id, actor, account_id, role)
        elif not seat_port.assign(org_id, actor, account_id):
            raise SeatLimitReached(OUT_OF_SEATS)
    for account_id in leaving:
        if role is None:
            seat_port.revoke(org_id, actor, account_id)
            continue
        item = members.get_item(org_id, account_id)
        if item is not None and item.role == role.value:
            members.change_role(org_id, actor, account_id, Role.MEMBER)
    return get(org_id, group_id, base_url)
