"""Groups an org's identity provider pushes, and what they grant (a role, a seat).

A group is a name (unique per org, case-insensitive), an optional
externalId and its members; an admin maps it to access (``set_mapping``):
``role`` (account_admin, billing_manager, member) and/or ``seat``. Every
change of a group (members, name, mapping, deletion) is one group change
(``group_access``): each member it touches ends with the role and seat their
groups grant (``group_access.resolve``), refused whole when the org cannot
take it. Deleting a group, or its mapping, takes back what it granted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..clock import now
from ..domain.errors import InvalidRequest, NotFound
from ..domain.models import Actor, Member
from ..domain.roles import Permission, Role
from ..secrets import new_id
from ..storage import members as member_rows
from ..storage.base import Tx, key_fits
from ..storage.groups import GroupMemberModel, GroupModel, GroupNameModel, group_key, name_key
from . import group_access, members
from .group_access import Grant

MAX_NAME_CHARS = 256
MAX_EXTERNAL_ID_CHARS = 256
NAMED_AT_MOST = 10


@dataclass(frozen=True)
class Wanted:
    """A group as a change wants it; ``member_ids`` None keeps the members."""

    display_name: str
    external_id: str | None
    member_ids: set[str] | None
    role: Role | None
    seat: bool


def grant_of(group: GroupModel) -> Grant:
    return Grant(Role(group.role) if group.role else None, bool(group.seat))


def list_groups(org_id: str) -> list[GroupModel]:
    return list(GroupModel.query(org_id, consistent_read=True)) if key_fits(org_id) else []


def find(org_id: str, group_id: str) -> GroupModel | None:
    if not key_fits(org_id, group_id):
        return None
    try:
        return GroupModel.get(org_id, group_id, consistent_read=True)
    except DoesNotExist:
        return None


def find_many(org_id: str, group_ids: list[str]) -> list[GroupModel]:
    """The groups of these ids that still exist, in the order given (BatchGetItem, 100 keys a call)."""
    keys = [(org_id, g) for g in group_ids if key_fits(org_id, g)]
    found = {g.group_id: g for g in GroupModel.batch_get(keys, consistent_read=True)} if keys else {}
    return [found[g] for g in group_ids if g in found]


def find_by_name(org_id: str, display_name: str) -> GroupModel | None:
    key = name_key(display_name)
    if not key or not key_fits(org_id, key):
        return None
    try:
        claim = GroupNameModel.get(org_id, key, consistent_read=True)
    except DoesNotExist:
        return None
    return find(org_id, claim.group_id)


def resolve_ref(org_id: str, ref: str) -> GroupModel:
    """A group by id, else by display name (case-insensitive); 404 when neither."""
    group = find(org_id, ref) or find_by_name(org_id, ref)
    if group is None:
        raise NotFound("No such group.")
    return group


def members_of(org_id: str, group_id: str) -> list[Member]:
    """The group's members: its membership items, each confirmed by the member item's ``group_ids``.

    A membership item outlives a member removed from the org (the item is
    not in the removal's transaction); the member item, gone or recreated
    without the group, says it no longer counts.
    """
    ids = [m.account_id for m in GroupMemberModel.query(group_key(org_id, group_id), consistent_read=True)]
    found = member_rows.many(org_id, ids)
    return [found[a] for a in ids if a in found and group_id in found[a].group_ids]


def _check_name(display_name: str | None) -> str:
    name = (display_name or "").strip()
    if not name:
        raise InvalidRequest("displayName is required.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"displayName is at most {MAX_NAME_CHARS} characters.")
    return name


def _check_external_id(external_id: str | None) -> str | None:
    if external_id is not None and len(external_id) > MAX_EXTERNAL_ID_CHARS:
        raise InvalidRequest(f"externalId is at most {MAX_EXTERNAL_ID_CHARS} characters.")
    return external_id or None


@dataclass(frozen=True)
class Outcome:
    group_id: str
    plan: group_access.Plan


def change(
    org_id: str,
    actor: Actor,
    group_id: str | None,
    want: Callable[[GroupModel | None, list[Member]], Wanted | None],
    *,
    action: str,
    caller: Member | None = None,
) -> Outcome:
    """One change of one group (``group_id`` None: create it), all or nothing.

    ``want`` gets the group and its members as read (None and [] for a new
    group) and answers the group wanted, or None to delete it; it raises to
    refuse (If-Match, bad values). Every member joining, leaving, or whose
    grant moves with the mapping is planned with ``group_access.resolve``.
    """
    new_id_ = new_id("grp") if group_id is None else group_id

    def build() -> group_access.Plan:
        group = find(org_id, new_id_) if group_id is not None else None
        if group_id is not None and group is None:
            raise NotFound("No such group.")
        current = members_of(org_id, new_id_) if group is not None else []
        wanted = want(group, current)
        current_ids = {m.account_id for m in current}
        wanted_ids = current_ids if wanted is None or wanted.member_ids is None else wanted.member_ids
        if wanted is None:
            wanted_ids = set()
        if wanted is not None:
            _check_name(wanted.display_name)
            _check_external_id(wanted.external_id)
        joining, leaving = wanted_ids - current_ids, current_ids - wanted_ids
        items = {m.account_id: m for m in current}
        items.update(member_rows.many(org_id, joining))
        # An id that names no member of the org (a user removed here but still in the IdP's
        # group) is skipped, not refused: one stale id must not block everyone else's access.
        unknown = sorted(joining - set(items))
        joining -= set(unknown)
        wanted_ids -= set(unknown)
        grant_before = grant_of(group) if group is not None else Grant()
        grant_after = Grant(wanted.role, wanted.seat) if wanted is not None else Grant()
        affected = joining | leaving | (current_ids if grant_after != grant_before else set())
        grants = {g.group_id: grant_of(g) for g in list_groups(org_id) if g.group_id != new_id_}

        def plan_member(item: Member) -> group_access.Change:
            stored = set(item.group_ids)
            before = stored | ({new_id_} if item.account_id in current_ids else set())
            after = (before - {new_id_}) | ({new_id_} if item.account_id in wanted_ids else set())
            before_grants = [grants[g] for g in before if g in grants] + ([grant_before] if new_id_ in before else [])
            after_grants = [grants[g] for g in after if g in grants] + ([grant_after] if new_id_ in after else [])
            role, seat = group_access.resolve(item.role, item.has_seat, before_grants, after_grants)
            writes: list[Callable[[Tx], object]] = []
            key = GroupMemberModel(group_key(org_id, new_id_), item.account_id)
            if item.account_id in joining:
                writes.append(lambda tx: tx.put(GroupMemberModel(key.group_key, key.account_id, added_at=now())))
            elif item.account_id in leaving:
                writes.append(lambda tx: tx.delete(key))
            return group_access.Change(item, role, seat, group_ids=after, writes=writes)

        unchanged = (
            group is not None
            and wanted is not None
            and not joining
            and not leaving
            and grant_after == grant_before
            and (wanted.display_name, wanted.external_id or None) == (group.display_name, group.external_id)
        )
        # Nothing to change (an IdP re-sending the group as it is): nothing written, no audit record.
        head = None if unchanged else _head(org_id, new_id_, group, wanted)
        shown = wanted if wanted is not None else group
        details: dict[str, Any] = {
            "group_id": new_id_,
            "display_name": shown.display_name if shown is not None else None,
            "added": sorted(joining)[:NAMED_AT_MOST],
            "added_count": len(joining),
            "removed": sorted(leaving)[:NAMED_AT_MOST],
            "removed_count": len(leaving),
        }
        if unknown:
            details["skipped_unknown"] = unknown[:NAMED_AT_MOST]
            details["skipped_unknown_count"] = len(unknown)
        if grant_after != grant_before:
            details["mapping"] = _mapping_details(grant_after)
        return group_access.Plan(
            changes=[plan_member(items[a]) for a in sorted(affected)],
            redo=plan_member,
            action=action,
            target=new_id_,
            details=details,
            head=head,
        )

    plan = group_access.apply(org_id, actor, build, caller)
    return Outcome(new_id_, plan)


def _mapping_details(grant: Grant) -> dict[str, Any]:
    return {"role": grant.role.value if grant.role else None, "seat": grant.seat}


def _head(org_id: str, group_id: str, group: GroupModel | None, wanted: Wanted | None) -> Callable[[Tx], None]:
    """The group's own items in the change's first transaction, conditioned on the group as read."""
    stamp = now()

    def head(tx: Tx) -> None:
        if wanted is None:
            assert group is not None
            tx.delete(group, condition=GroupModel.revision == group.revision)
            tx.delete(GroupNameModel(org_id, name_key(group.display_name)))
            return
        name = _check_name(wanted.display_name)
        new_key, old_key = name_key(name), name_key(group.display_name) if group is not None else None
        if new_key != old_key:
            claim = GroupNameModel(org_id, new_key, group_id=group_id)
            tx.put(claim, condition=GroupNameModel.name_key.does_not_exist())
            if old_key is not None:
                tx.delete(GroupNameModel(org_id, old_key), condition=GroupNameModel.group_id == group_id)
        item = GroupModel(
            org_id,
            group_id,
            display_name=name,
            external_id=_check_external_id(wanted.external_id),
            role=wanted.role.value if wanted.role else None,
            seat=True if wanted.seat else None,
            revision=(int(group.revision) + 1) if group is not None else 1,
            created_at=group.created_at if group is not None else stamp,
            updated_at=stamp,
        )
        if group is None:
            tx.put(item, condition=GroupModel.group_id.does_not_exist())
        else:
            tx.put(item, condition=GroupModel.revision == group.revision)

    return head


# --- mappings (the admin's JSON API) -------------------------------------------


BUILT_IN_GROUPS: dict[str, tuple[str, Role | None]] = {
    "account-admins": ("Account Admins", Role.ACCOUNT_ADMIN),
    "billing-managers": ("Billing Managers", Role.BILLING_MANAGER),
    "seat-holders": ("Seat Holders", None),
}
BUILT_IN_NAMES = {name_key(name) for name, _ in BUILT_IN_GROUPS.values()}
BUILT_IN_FIXED = "Built-in groups have fixed mappings (account-admins, billing-managers, seat-holders)."


def set_mapping(
    org_id: str, actor: Actor, ref: str, role: Role | None, seat: bool, action: str = "group.mapping_set"
) -> GroupModel:
    """Map a group to a role and/or a seat; its members get them now (refused whole when the org cannot)."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    if ref in BUILT_IN_GROUPS or name_key(ref) in BUILT_IN_NAMES:
        raise InvalidRequest(BUILT_IN_FIXED)
    group = resolve_ref(org_id, ref)

    def want(current: GroupModel | None, _: list[Member]) -> Wanted:
        assert current is not None
        return Wanted(current.display_name, current.external_id, None, role, seat)

    change(org_id, actor, group.group_id, want, action=action, caller=caller)
    found = find(org_id, group.group_id)
    if found is None:
        raise NotFound("No such group.")
    return found


def remove_mapping(org_id: str, actor: Actor, ref: str) -> None:
    """The group grants nothing any more: what it granted its members goes."""
    set_mapping(org_id, actor, ref, None, False, action="group.mapping_removed")


def list_mappings(org_id: str, actor: Actor) -> list[GroupModel]:
    members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    return sorted(list_groups(org_id), key=lambda g: name_key(g.display_name))
