"""Organizations: create, read, rename, set purchased seat capacity."""

from __future__ import annotations

from collections.abc import Iterable

from ..clock import now
from ..domain import org_names
from ..domain.errors import CapacityBelowUsage, NotFound, OrgNameNotAllowed
from ..domain.models import Actor, Member, Organization
from ..domain.roles import Permission, Role
from ..secrets import new_id
from ..storage import members as member_rows
from ..storage import orgs as org_rows
from ..storage.base import Tx, retry_races
from . import accounts, audit, members


def load(org_id: str) -> Organization:
    org = org_rows.get(org_id)
    if org is None:
        raise NotFound("No such organization.")
    return org


def check_name(name: str) -> str:
    """An org name may carry no link and no line break into mail (``domain.org_names``): else 400."""
    why = org_names.problem(name)
    if why is not None:
        raise OrgNameNotAllowed(
            f"An organization name may not contain {why}: it is shown in every email the organization sends.",
            details=[{"field": "name", "problem": "org_name_not_allowed"}],
        )
    return name


def create_org(actor: Actor, name: str, *, admin: accounts.Account, seat_capacity: int = 0) -> Organization:
    """Create an org whose first account_admin is ``admin`` (one transaction)."""
    check_name(name)
    org = Organization(
        org_id=new_id("org"),
        name=name,
        seat_capacity=seat_capacity,
        seats_used=0,
        admin_count=1,
        member_count=1,
        created_at=now(),
    )
    tx = Tx()
    # The org item already counts its first admin; one operation per item per transaction.
    org_rows.add_in(tx, org, created_by=admin.account_id)
    member_rows.add_in(tx, members.new_member(org.org_id, admin, Role.ACCOUNT_ADMIN))
    members.mark_member_slot(tx, org.org_id, admin.email, admin.account_id)
    audit.record(tx, org.org_id, actor, "org.created", org.org_id, {"name": name})
    audit.record(
        tx, org.org_id, actor, "member.added", admin.account_id, {"email": admin.email, "role": "account_admin"}
    )
    tx.commit()
    return load(org.org_id)


def get_org(org_id: str, actor: Actor) -> tuple[Organization, Member | None]:
    caller = members.authorize(org_id, actor, Permission.READ_ORG)
    return load(org_id), caller


def rename(org_id: str, actor: Actor, name: str) -> tuple[Organization, Member | None]:
    """Rename; returns the org and the caller's membership (None for org-bound credentials)."""
    caller = members.authorize(org_id, actor, Permission.UPDATE_ORG)
    check_name(name)

    def attempt() -> None:
        # The audit's "from" is the name this transaction replaces: the update holds only while it is.
        old = load(org_id)
        tx = Tx()
        org_rows.rename_in(tx, org_id, old.name, name, now())
        audit.record(tx, org_id, actor, "org.renamed", org_id, {"from": old.name, "to": name})
        members.caller_still(tx, caller, Permission.UPDATE_ORG)
        tx.commit()

    retry_races(attempt)
    return load(org_id), caller


def set_capacity(org_id: str, actor: Actor, capacity: int) -> tuple[Organization, Member | None]:
    """Set the purchased seat count; never below the seats in use (409). Returns the org and the caller."""
    caller = members.authorize(org_id, actor, Permission.SET_CAPACITY)

    def attempt() -> None:
        # The audit's "from" is the capacity this transaction replaces: the update holds only while it
        # is, so two concurrent changes cannot both record the same old value (the loser reads again).
        old = load(org_id)
        tx = Tx()
        org_rows.set_capacity_in(
            tx, org_id, old.seat_capacity, capacity, now(), on_fail=lambda _: _below_usage(org_id, capacity)
        )
        audit.record(
            tx, org_id, actor, "org.seat_capacity_changed", org_id, {"from": old.seat_capacity, "to": capacity}
        )
        members.caller_still(tx, caller, Permission.SET_CAPACITY)
        tx.commit()

    retry_races(attempt)
    return load(org_id), caller


def _below_usage(org_id: str, capacity: int) -> CapacityBelowUsage | None:
    """Why a capacity change failed its condition: too low for the seats in use, or (None) it changed meanwhile."""
    in_use = load(org_id).seats_used
    if in_use > capacity:
        return CapacityBelowUsage(f"{in_use} seats are in use; revoke seats before lowering capacity below that.")
    return None  # the capacity changed since it was read: retried on fresh state


def name_of(org_id: str) -> str | None:
    """An org's display name (for listings); None when it is gone."""
    return org_rows.name_of(org_id)


def names_of(org_ids: Iterable[str]) -> dict[str, str | None]:
    """Display names of several orgs in one BatchGetItem (per 100 orgs); None for an org that is gone."""
    return org_rows.names_of(org_ids)
