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

from ..clock import now
from ..domain.errors import InvalidRequest, NotFound
from ..domain.groups import StoredGroup, name_key
from ..domain.models import Actor, Member
from ..domain.roles import Permission, Role
from ..secrets import new_id
from ..storage import groups as group_rows
from ..storage import members as member_rows
from ..storage.base import Tx
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


def grant_of(group: StoredGroup) -> Grant:
    return Grant(group.role, group.seat)


def list_groups(org_id: str) -> list[StoredGroup]:
    return group_rows.of_org(org_id)


def find(org_id: str, group_id: str) -> StoredGroup | None:
    return group_rows.get(org_id, group_id)


def find_many(org_id: str, group_ids: list[str]) -> list[StoredGroup]:
    """The groups of these ids that still exist, in the order given."""
    return group_rows.many(org_id, group_ids)


def find_by_name(org_id: str, display_name: str) -> StoredGroup | None:
    return group_rows.named(org_id, display_name)


def resolve_ref(org_id: str, ref: str) -> StoredGroup:
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
    ids = group_rows.member_ids(org_id, group_id)
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
    want: Callable[[StoredGroup | None, list[Member]], Wanted | None],
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
            account_id = item.account_id
            if account_id in joining:
                writes.append(lambda tx: group_rows.join_in(tx, org_id, new_id_, account_id, now()))
            elif account_id in leaving:
                writes.append(lambda tx: group_rows.leave_in(tx, org_id, new_id_, account_id))
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


def _head(org_id: str, group_id: str, group: StoredGroup | None, wanted: Wanted | None) -> Callable[[Tx], None]:
    """The group's own items in the change's first transaction, conditioned on the group as read."""
    stamp = now()

    def head(tx: Tx) -> None:
        if wanted is None:
            assert group is not None
            group_rows.delete_in(tx, group)
            return
        saved = StoredGroup(
            org_id=org_id,
            group_id=group_id,
            display_name=_check_name(wanted.display_name),
            external_id=_check_external_id(wanted.external_id),
            role=wanted.role,
            seat=wanted.seat,
            revision=group.revision + 1 if group is not None else 1,
            created_at=group.created_at if group is not None else stamp,
            updated_at=stamp,
        )
        group_rows.save_in(tx, group, saved)

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
) -> StoredGroup:
    """Map a group to a role and/or a seat; its members get them now (refused whole when the org cannot)."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    if ref in BUILT_IN_GROUPS or name_key(ref) in BUILT_IN_NAMES:
        raise InvalidRequest(BUILT_IN_FIXED)
    group = resolve_ref(org_id, ref)

    def want(current: StoredGroup | None, _: list[Member]) -> Wanted:
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


def list_mappings(org_id: str, actor: Actor) -> list[StoredGroup]:
    members.authorize(org_id, actor, Permission.MANAGE_SCIM)
    return sorted(list_groups(org_id), key=lambda g: name_key(g.display_name))
