"""SCIM Groups: the groups the org's identity provider pushes, and three built-in ones.

Pushed groups (POST, PUT, PATCH, DELETE) are stored per org
(services/groups.py): displayName unique per org in any letter case (409
uniqueness), externalId, members. What a group grants (a role, a seat) is
the admin's mapping (/v1/orgs/{org_id}/scim/group-mappings), not SCIM's.

The built-in groups are fixed mappings kept for existing integrations:
"Account Admins" and "Billing Managers" are roles (joining sets the role,
leaving demotes to member), "Seat Holders" is the seat (joining assigns one,
leaving revokes it). They cannot be created, renamed or deleted.

Every PATCH, PUT or DELETE is one group change (services/group_access.py):
refused whole when the org cannot take it (400 out of seats, 409 last
admin, the members concerned named in the detail), else applied whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim2_models import Context, Group, MutabilityException, NotFoundException, UniquenessException

from ..domain.errors import Forbidden, NotFound
from ..domain.groups import StoredGroup, name_key
from ..domain.models import Actor, Member
from ..domain.roles import Role
from ..services import group_access, groups
from ..storage import members as member_rows
from ..storage import orgs as org_rows
from ..storage import scim_pages
from .filters import FilterPlan, display_name_key, names_attribute, parse_group_filter
from .resources import BUILT_IN_GROUPS, group_holds, to_group, to_pushed_group
from .users import check_version, patched

BUILT_IN = "Built-in groups (Account Admins, Billing Managers, Seat Holders) cannot be created, renamed or deleted."


@dataclass(frozen=True)
class GroupPage:
    total: int
    start_index: int
    groups: list[Group]


def _created(org_id: str) -> Any:
    return org_rows.created_at(org_id)


def _holders(org_id: str, group_id: str) -> list[Member]:
    return [i for i in member_rows.of_org(org_id) if group_holds(group_id, i)]


def _pushed(org_id: str, group_id: str) -> StoredGroup:
    group = groups.find(org_id, group_id)
    if group is None:
        raise NotFound("No such group.")
    return group


def get(org_id: str, group_id: str, base_url: str, with_members: bool = True) -> Group:
    if group_id in BUILT_IN_GROUPS:
        holders = _holders(org_id, group_id) if with_members else None
        return to_group(group_id, holders, _created(org_id), base_url)
    group = _pushed(org_id, group_id)
    return to_pushed_group(group, groups.members_of(org_id, group_id) if with_members else None, base_url)


def search(
    org_id: str, base_url: str, filter_text: str | None, start_index: int, count: int, with_members: bool
) -> GroupPage:
    """Filtered, 1-based page: the built-in groups, then the pushed ones by name.

    ``displayName eq "x"`` reads only the group of that name (the group_names
    table, case-folded as stored), not the org's groups; the whole filter is
    still evaluated on it, so the lookup only narrows.

    Members are read only when the filter names members (or meta, whose
    version of a built-in group digests its members), or for the groups on
    the page when the client wants members: a filter such as
    ``userName eq "x"`` on /.search matches no group and reads no member.
    """
    scim_filter = parse_group_filter(filter_text)
    filter_needs_members = names_attribute(scim_filter, "members", "meta")
    first = max(start_index, 1) - 1
    built_in = list(BUILT_IN_GROUPS)
    if scim_filter is None:
        # Unfiltered: only the page's groups are read (``storage.scim_pages``), after the built-in ones.
        built_in = built_in[first : first + count]
        skip = max(first - len(BUILT_IN_GROUPS), 0)
        pushed_total, group_ids = scim_pages.group_name_page(org_id, skip, count - len(built_in))
        pushed = groups.find_many(org_id, group_ids)
        page = _built(org_id, base_url, built_in, pushed, with_members)
        return GroupPage(total=len(BUILT_IN_GROUPS) + pushed_total, start_index=first + 1, groups=page)
    named = display_name_key(scim_filter.ast)
    if named is not None:
        built_in = [gid for gid in BUILT_IN_GROUPS if name_key(BUILT_IN_GROUPS[gid][0]) == name_key(named)]
        pushed = [] if built_in else [g for g in [groups.find_by_name(org_id, named)] if g is not None]
    else:
        pushed = sorted(groups.list_groups(org_id), key=lambda g: (name_key(g.display_name), g.group_id))
    everyone: list[Member] | None = None
    created: Any = None

    def build(gid: str, members: bool) -> Group:
        nonlocal everyone, created
        if gid in BUILT_IN_GROUPS:
            if created is None:
                created = _created(org_id)
            if members and everyone is None:
                everyone = member_rows.of_org(org_id)
            holders = [i for i in everyone if group_holds(gid, i)] if members and everyone is not None else None
            return to_group(gid, holders, created, base_url)
        group = by_id[gid]
        return to_pushed_group(group, groups.members_of(org_id, gid) if members else None, base_url)

    by_id = {g.group_id: g for g in pushed}
    ids = [*built_in, *by_id]
    plan = FilterPlan(scim_filter)
    ids = [g.id or "" for g in (build(gid, filter_needs_members) for gid in ids) if plan.match(g)]
    page = [build(gid, with_members) for gid in ids[first : first + count]]
    return GroupPage(total=len(ids), start_index=first + 1, groups=page)


def _built(
    org_id: str, base_url: str, built_in: list[str], pushed: list[StoredGroup], with_members: bool
) -> list[Group]:
    """Resources for a page of groups: the org's members read once, only for built-in groups on it."""
    found: list[Group] = []
    if built_in:
        created = _created(org_id)
        everyone = member_rows.of_org(org_id) if with_members else None
        for gid in built_in:
            holders = [i for i in everyone if group_holds(gid, i)] if everyone is not None else None
            found.append(to_group(gid, holders, created, base_url))
    for group in pushed:
        holders = groups.members_of(org_id, group.group_id) if with_members else None
        found.append(to_pushed_group(group, holders, base_url))
    return found


def _ids(group: Group) -> set[str]:
    return {m.value for m in group.members or [] if m.value}


# --- built-in groups --------------------------------------------------------------


def _built_in_change(group_id: str, item: Member, joining: bool) -> group_access.Change:
    """A built-in group is a fixed mapping: joining gives its role or seat, leaving takes it back."""
    role = BUILT_IN_GROUPS[group_id][1]
    wanted_role, seat = item.role, item.has_seat
    if role is None:
        seat = joining
    elif joining:
        wanted_role = role
    elif item.role is role:
        wanted_role = Role.MEMBER
    return group_access.Change(item, wanted_role, seat)


def _converge_built_in(
    org_id: str, actor: Actor, base_url: str, group_id: str, wanted_of: Callable[[Group], Group]
) -> Group:
    """Make the built-in group's members the wanted ones, all or nothing (services/group_access.py)."""

    def build() -> group_access.Plan:
        current = get(org_id, group_id, base_url)
        wanted = wanted_of(current)
        if wanted.display_name != current.display_name:
            raise MutabilityException(detail="Built-in groups cannot be renamed.")
        asked_in, leaving = _ids(wanted) - _ids(current), _ids(current) - _ids(wanted)
        items = member_rows.many(org_id, asked_in | leaving)  # an id that names no member is skipped
        joining = asked_in & set(items)
        changes = [_built_in_change(group_id, items[a], a in joining) for a in sorted(items)]
        return group_access.Plan(
            changes=changes,
            redo=lambda item: _built_in_change(group_id, item, item.account_id in joining),
            action="group.members_changed",
            target=group_id,
            details={
                "group": current.display_name,
                "added": sorted(joining),
                "removed": sorted(leaving),
                **({"skipped_unknown": sorted(asked_in - joining)[:10]} if asked_in - joining else {}),
            },
        )

    group_access.apply(org_id, actor, build)
    return get(org_id, group_id, base_url)


# --- pushed groups ----------------------------------------------------------------


def _check_name_free(org_id: str, display_name: str | None, group_id: str | None) -> None:
    """409 uniqueness: the name is a built-in group's or another group's of the org (any letter case)."""
    key = name_key(display_name or "")
    if key in groups.BUILT_IN_NAMES:
        raise UniquenessException(detail=f"{display_name!r} is the name of a built-in group.")
    other = groups.find_by_name(org_id, display_name or "") if key else None
    if other is not None and other.group_id != group_id:
        raise UniquenessException(detail=f"A group named {other.display_name!r} already exists.")


def _wanted(org_id: str, group: StoredGroup | None, resource: Group) -> groups.Wanted:
    """The stored group a SCIM representation asks for; the mapping is the admin's and stays."""
    _check_name_free(org_id, resource.display_name, group.group_id if group else None)
    role = group.role if group is not None else None
    return groups.Wanted(
        display_name=resource.display_name or "",
        external_id=resource.external_id,
        member_ids=_ids(resource),
        role=role,
        seat=group.seat if group is not None else False,
    )


def _change(
    org_id: str,
    actor: Actor,
    group_id: str | None,
    wanted_of: Callable[[Group | None], Group | None],
    action: str,
    base_url: str,
) -> str:
    def want(group: StoredGroup | None, holders: list[Member]) -> groups.Wanted | None:
        current = to_pushed_group(group, holders, base_url) if group is not None else None
        resource = wanted_of(current)
        return _wanted(org_id, group, resource) if resource is not None else None

    return groups.change(org_id, actor, group_id, want, action=action).group_id


def create(org_id: str, actor: Actor, base_url: str, payload: dict[str, Any]) -> Group:
    wanted = Group.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    group_id = _change(org_id, actor, None, lambda _: wanted, "group.created", base_url)
    return get(org_id, group_id, base_url)


def patch(
    org_id: str, actor: Actor, base_url: str, group_id: str, payload: dict[str, Any], if_match: str | None
) -> Group:
    """Apply the operations to the group as read, then make the difference real."""
    if group_id in BUILT_IN_GROUPS:
        return _converge_built_in(
            org_id, actor, base_url, group_id, lambda current: patched(current, _idp_shapes(payload), if_match)
        )

    def wanted_of(current: Group | None) -> Group:
        assert current is not None
        return patched(current, _idp_shapes(payload), if_match)

    _change(org_id, actor, _existing(org_id, group_id), wanted_of, "group.updated", base_url)
    return get(org_id, group_id, base_url)


def replace(
    org_id: str, actor: Actor, base_url: str, group_id: str, payload: dict[str, Any], if_match: str | None
) -> Group:
    wanted = Group.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)

    def replaced(current: Group | None) -> Group:
        assert current is not None
        check_version(current, if_match)
        if wanted.display_name is None:
            wanted.display_name = current.display_name
        return wanted

    if group_id in BUILT_IN_GROUPS:
        return _converge_built_in(org_id, actor, base_url, group_id, replaced)
    _change(org_id, actor, _existing(org_id, group_id), replaced, "group.updated", base_url)
    return get(org_id, group_id, base_url)


def delete(org_id: str, actor: Actor, base_url: str, group_id: str, if_match: str | None) -> None:
    """Delete the group: what it granted its members goes with it."""
    if group_id in BUILT_IN_GROUPS:
        raise Forbidden(BUILT_IN)

    def gone(current: Group | None) -> None:
        assert current is not None
        check_version(current, if_match)
        return None

    _change(org_id, actor, _existing(org_id, group_id), gone, "group.deleted", base_url)


def _existing(org_id: str, group_id: str) -> str:
    if groups.find(org_id, group_id) is None:
        raise NotFoundException(detail="No such group.")
    return group_id


def _idp_shapes(payload: dict[str, Any]) -> dict[str, Any]:
    """The identity providers' own PATCH shapes, said in the ones RFC 7644 reads alike everywhere.

    - Okta renames with ``{"op": "replace", "value": {"id": ..., "displayName": ...}}``: ``id`` is
      read-only and equal to the path's, so it is dropped from such a value rather than refused.
    - Entra ID removes members with ``{"op": "Remove", "path": "members", "value": [{"$ref": null,
      "value": "<id>"}]}``: each value names a member by its ``value`` alone (``$ref`` and
      ``display`` are not what the stored member holds), so each becomes its own
      ``members[value eq "<id>"]`` removal.
    """
    operations = payload.get("Operations")
    if not isinstance(operations, list):
        return payload
    cleaned: list[Any] = []
    for operation in operations:
        if isinstance(operation, dict) and isinstance(operation.get("value"), dict) and not operation.get("path"):
            operation = {**operation, "value": {k: v for k, v in operation["value"].items() if k != "id"}}
        removed = _removed_member_ids(operation)
        if removed is None:
            cleaned.append(operation)
        else:
            cleaned += [{"op": "remove", "path": f'members[value eq "{member_id}"]'} for member_id in removed]
    return {**payload, "Operations": cleaned}


def _removed_member_ids(operation: Any) -> list[str] | None:
    """The ids of a ``remove`` of ``members`` by a list of values, when every value names one plainly."""
    if not isinstance(operation, dict) or str(operation.get("op", "")).lower() != "remove":
        return None
    values = operation.get("value")
    if str(operation.get("path", "")).strip().lower() != "members" or not isinstance(values, list) or not values:
        return None
    ids = [v.get("value") if isinstance(v, dict) else None for v in values]
    if not all(isinstance(i, str) and i and '"' not in i and "\\" not in i for i in ids):
        return None  # left as sent: the library's own answer (and error) for an odd value
    return [str(i) for i in ids]
