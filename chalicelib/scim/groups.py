"""SCIM Groups: the three built-in groups of every org.

"Account Admins" and "Billing Managers" are roles: joining sets the role,
leaving demotes to member. "Seat Holders" is the seat: joining assigns one
(400 when none is free), leaving revokes it. Groups cannot be created,
renamed or deleted (403). The member rules still hold through the
services: the last admin cannot leave (409), capacity is never exceeded.

A PATCH or PUT is one group change (services/group_access.py): refused
whole when the org cannot take it (400 out of seats, 409 last admin, the
members concerned named in the detail), else applied whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim2_models import Context, Group, MutabilityException

from ..domain.errors import InvalidRequest, NotFound
from ..domain.models import Actor
from ..domain.roles import Role
from ..services import group_access
from ..storage.base import key_fits
from ..storage.members import MemberModel
from ..storage.orgs import OrgModel
from .filters import names_attribute, parse_group_filter
from .resources import BUILT_IN_GROUPS, group_holds, to_group
from .users import check_version, patched

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
    _check_id(group_id)
    return _converge_built_in(org_id, actor, base_url, group_id, lambda current: patched(current, payload, if_match))


def replace(
    org_id: str, actor: Actor, base_url: str, group_id: str, payload: dict[str, Any], if_match: str | None
) -> Group:
    _check_id(group_id)
    wanted = Group.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)

    def replaced(current: Group) -> Group:
        check_version(current, if_match)
        if wanted.display_name is None:
            wanted.display_name = current.display_name
        return wanted

    return _converge_built_in(org_id, actor, base_url, group_id, replaced)


def _ids(group: Group) -> set[str]:
    return {m.value for m in group.members or [] if m.value}


def _built_in_change(group_id: str, item: MemberModel, joining: bool) -> group_access.Change:
    """A built-in group is a fixed mapping: joining gives its role or seat, leaving takes it back."""
    role = BUILT_IN_GROUPS[group_id][1]
    wanted_role, seat = Role(item.role), bool(item.has_seat)
    if role is None:
        seat = joining
    elif joining:
        wanted_role = role
    elif item.role == role.value:
        wanted_role = Role.MEMBER
    return group_access.Change(item, wanted_role, seat)


def _read_members(org_id: str, account_ids: set[str]) -> dict[str, MemberModel]:
    keys = [(org_id, a) for a in sorted(account_ids) if key_fits(a)]
    found = {m.account_id: m for m in MemberModel.batch_get(keys, consistent_read=True)} if keys else {}
    unknown = sorted(account_ids - set(found))
    if unknown:
        raise InvalidRequest(f"No such user: {', '.join(unknown[:10])}.")
    return found


def _converge_built_in(
    org_id: str, actor: Actor, base_url: str, group_id: str, wanted_of: Callable[[Group], Group]
) -> Group:
    """Make the built-in group's members the wanted ones, all or nothing (services/group_access.py)."""

    def build() -> group_access.Plan:
        current = get(org_id, group_id, base_url)
        wanted = wanted_of(current)
        if wanted.display_name != current.display_name:
            raise MutabilityException(detail="Built-in groups cannot be renamed.")
        joining = _ids(wanted) - _ids(current)
        leaving = _ids(current) - _ids(wanted)
        items = _read_members(org_id, joining | leaving)
        changes = [_built_in_change(group_id, items[a], a in joining) for a in sorted(items)]
        return group_access.Plan(
            changes=changes,
            redo=lambda item: _built_in_change(group_id, item, item.account_id in joining),
            action="group.members_changed",
            target=group_id,
            details={"group": current.display_name, "added": sorted(joining), "removed": sorted(leaving)},
        )

    group_access.apply(org_id, actor, build)
    return get(org_id, group_id, base_url)
