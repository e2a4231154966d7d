"""Members and roles: who belongs to an org, with which role and seat.

Every change is one DynamoDB transaction: the member item, the org's
counters (member_count, admin_count, seats_used) under conditions, and the
audit record. Reads only choose the shape of that transaction; the
conditions decide (invariants 1, 2 and 7). A lost race is retried a few
times against fresh state, then reported as 409 ``conflict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from ..clock import now
from ..domain.domains import domain_of_email
from ..domain.emails import InvalidEmail, normalize_email
from ..domain.errors import (
    AlreadyMember,
    CannotChangeOwnRole,
    Forbidden,
    InvalidRequest,
    InvitationQuotaExceeded,
    LastAdmin,
    NotFound,
    SeatLimitReached,
)
from ..domain.models import Actor, Member, Page, Principal, Standing
from ..domain.outcomes import Outcome
from ..domain.roles import Permission, Role, allows, require, roles_with
from ..storage import invitations as invitation_slots
from ..storage import members as member_rows
from ..storage import orgs as org_rows
from ..storage.base import CancelReason, Failure, Tx, TxItem, lost_race, retry_races
from . import accounts, audit, domains, invitations

T = TypeVar("T")


def get_item(org_id: str, account_id: str) -> Member | None:
    """The member as stored (a consistent read), or None."""
    return member_rows.get(org_id, account_id)


def standing_of(org_id: str, account_id: str) -> Standing | None:
    """A member's role and membership, read consistently (None: not a member)."""
    member = member_rows.get(org_id, account_id)
    return Standing(role=member.role.value, joined_at=member.joined_at) if member else None


def find(org_id: str, account_id: str) -> Member | None:
    return member_rows.get(org_id, account_id)


def authorize(org_id: str, actor: Actor, permission: Permission) -> Member | None:
    """Check that ``actor`` may do ``permission`` in ``org_id``; return its membership.

    Non-members get 404 for the org (no data, no confirmation it exists);
    members without the permission get 403. Org-bound credentials act in
    their own org only and are strangers everywhere else: a SCIM token as
    admin, a service account within its scopes (403 beyond them).
    """
    if actor.scope_org is not None:
        if actor.scope_org != org_id:
            raise NotFound("No such organization.")
        require_granted(actor, None, permission)
        return None
    member = find(org_id, actor.account_id) if actor.account_id else None
    if member is None:
        raise NotFound("No such organization.")
    require(member.role, permission)
    return member


def require_granted(actor: Actor, caller: Member | None, permission: Permission) -> None:
    """A further permission of one call (a seat with an add, tokens with onboarding): the caller's
    role carries it, or the service account's scopes do; a SCIM token carries every one."""
    if caller is not None:
        require(caller.role, permission)
    elif actor.permissions is not None and permission not in actor.permissions:
        raise Forbidden(f"This service account's scopes do not allow this ({permission.value}).")


def refuse_admin_change(actor: Actor, *roles: Role) -> None:
    """A service account never gives, takes or removes the account_admin role (403): who administers
    the org stays a person's decision, whatever the account's scopes."""
    if actor.is_service_account and Role.ACCOUNT_ADMIN in roles:
        raise Forbidden("A service account may not give, take or remove the account_admin role.")


NO_LONGER_ALLOWED = "Your role in this organization changed while the request ran; nothing was changed."


# The maker whose power an org-bound credential's call stands on (``backed_by``), for this request.
_BACKING: ContextVar[tuple[Member, Permission] | None] = ContextVar("backing", default=None)


@contextmanager
def backed_by(maker: Member | None, permission: Permission) -> Iterator[None]:
    """Run one call of an org-bound credential (a SCIM token) on its maker's power.

    The credential has no membership of its own, so ``caller_still`` checks
    its maker instead: every admin write of the call holds, in its own
    transaction, that the maker still has ``permission`` in the same
    membership, so a maker removed or demoted after authentication stops the
    call's writes too (invariant 10), not only its next request.
    """
    token = _BACKING.set((maker, permission) if maker is not None else None)
    try:
        yield
    finally:
        _BACKING.reset(token)


def caller_still(tx: Tx, caller: Member | None, permission: Permission) -> None:
    """Condition a change on the caller still holding ``permission`` in the org (the same membership).

    Authorization reads the caller's role before the change: without this
    check in the change's own transaction, an admin demoted or removed
    meanwhile would still complete it. Every admin write adds it (bulk calls
    to each chunk's transaction); a ConditionCheck in an existing
    transaction costs no extra request. When it fails, the transaction
    writes nothing and ``Tx.commit`` raises 403 ``forbidden``. An org-bound
    credential has no caller membership: within ``backed_by`` its maker is
    checked, with the power the credential stands on.
    """
    if caller is None:
        backing = _BACKING.get()
        if backing is None:
            return
        caller, permission = backing
    org_id, account_id, joined_at = caller.org_id, caller.account_id, caller.joined_at
    member_rows.guard_holds_in(
        tx,
        org_id,
        account_id,
        roles_with(permission),
        joined_at,
        lambda: Forbidden(NO_LONGER_ALLOWED),
        lambda: still_holds(member_rows.get(org_id, account_id), permission, joined_at),
    )


def still_holds(item: Member | Standing | None, permission: Permission, joined_at: datetime | None) -> bool:
    """Whether a member still has ``permission``, in the membership that joined at ``joined_at``
    (None: any); the check behind ``caller_still`` and behind the credentials an admin makes."""
    if item is None or item.role not in {r.value for r in roles_with(permission)}:
        return False
    return joined_at is None or item.joined_at == joined_at


def holds_in(
    tx: Tx, org_id: str, account_id: str, permission: Permission, joined_at: datetime | None, on_fail: Failure
) -> TxItem:
    """Condition the transaction on a member still holding ``permission`` in the same membership.

    For credentials an admin made (the maker, not the caller, must still hold
    the power); ``on_fail`` says what its failure means to the credential's user.
    """
    return member_rows.holds_in(tx, org_id, account_id, roles_with(permission), joined_at, on_fail)


def list_members(
    org_id: str,
    actor: Actor,
    *,
    role: Role | None = None,
    seat: bool | None = None,
    email_prefix: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Members of an org, by account id (or by email with ``email_prefix``)."""
    authorize(org_id, actor, Permission.READ_MEMBERS)
    items, next_cursor = member_rows.page_of(
        org_id, role=role, seat=seat, email_prefix=email_prefix, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


def get_member(org_id: str, actor: Actor, account_id: str) -> Member:
    """Admins and billing managers read anyone; members read only themselves."""
    caller = authorize(org_id, actor, Permission.READ_ORG)
    if caller and account_id != caller.account_id and not allows(caller.role, Permission.READ_MEMBERS):
        raise Forbidden("You may read only your own membership.")
    if caller is None:
        require_granted(actor, None, Permission.READ_MEMBERS)
    member = find(org_id, account_id)
    if member is None:
        raise NotFound("No such member.")
    return member


def new_member(
    org_id: str, account: accounts.Account, role: Role, *, seat: bool = False, extra: dict[str, Any] | None = None
) -> Member:
    """``extra``: further member attributes set at creation (SCIM ``external_id``, ``scim_profile``, the IdP's name).

    The member's name starts as the account's own; an ``extra`` name (from an
    identity provider) is this org's alone and replaces it on this membership.
    """
    stamp = now()
    attributes: dict[str, Any] = {"name": account.name, **(extra or {})}
    return Member(
        org_id=org_id,
        account_id=account.account_id,
        email=account.email,
        role=role,
        has_seat=seat,
        seat_generation=0,
        seat_assigned_at=stamp if seat else None,
        joined_at=stamp,
        updated_at=stamp,
        **attributes,
    )


def mark_member_slot(tx: Tx, org_id: str, email: str, account_id: str) -> None:
    """Record on the (org, email) invitation slot that this email is a member.

    Joining by any path other than the invitation (direct add, onboarding,
    SCIM) supersedes an invitation still pending for that email: its link
    dies here, the expiry job stops seeing it, and it leaves the invitation
    list, so it cannot re-admit the person after a later removal (invariant 5).
    """
    invitation_slots.mark_member_in(tx, org_id, email, account_id)


def clear_member_slot(tx: Tx, org_id: str, email: str) -> None:
    """Record on the (org, email) slot that this email is no longer a member."""
    invitation_slots.clear_member_in(tx, org_id, email)


def add_membership_to(
    tx: Tx,
    org_id: str,
    account: accounts.Account,
    role: Role,
    *,
    seat: bool = False,
    mark_slot: bool = True,
    extra: dict[str, Any] | None = None,
    if_member: Failure | None = AlreadyMember,
    if_org_refuses: Failure | None = None,
) -> Member:
    """Add "account joins org" to a transaction: member put + org counters + email slot.

    With ``seat`` the org's ``seats_used`` grows under ``used < capacity``.
    What a failure means is declared here: ``if_member`` when the account is a
    member already, ``if_org_refuses`` when the org update fails (default: 402
    ``seat_limit_reached`` with ``seat``, else 404 for the org). Invitation
    acceptance updates the slot itself (``mark_slot=False``): one operation
    per item per transaction.
    """
    member = new_member(org_id, account, role, seat=seat, extra=extra)
    member_rows.add_in(tx, member, on_fail=if_member)
    if if_org_refuses is None:
        if_org_refuses = SeatLimitReached if seat else _no_such_org
    admins = 1 if role is Role.ACCOUNT_ADMIN else 0
    org_rows.count_in(tx, org_id, members=1, admins=admins, seats=int(seat), on_fail=if_org_refuses)
    if mark_slot:
        mark_member_slot(tx, org_id, account.email, account.account_id)
    return member


def _no_such_org(_reason: CancelReason) -> Exception:
    return NotFound("No such organization.")


@dataclass(frozen=True)
class AddOutcome:
    """What a direct add did: ``added`` (``member`` set) or ``invited`` / ``already_invited`` (``invitation_id``)."""

    status: Outcome
    email: str
    role: Role
    member: Member | None = None
    invitation_id: str | None = None


def add_member(
    org_id: str,
    actor: Actor,
    email: str,
    role: Role,
    *,
    seat: bool = False,
    principal: Principal | None = None,
) -> AddOutcome:
    """Direct add (managed onboarding) for an email on one of the org's verified domains; else an invitation.

    On a verified domain the account is created when absent and joins at
    once, in one transaction; with ``seat`` it joins holding a seat, or not
    at all: 402 ``seat_limit_reached`` when none is free (nothing changes, no
    account either). Any other email is invited instead
    (``invitations.invite``; ``seat`` does not apply), whether or not an
    account has it, so the answer never tells (invariant 9).
    """
    caller = authorize(org_id, actor, Permission.MANAGE_MEMBERS)
    if seat:
        require_granted(actor, caller, Permission.MANAGE_SEATS)
    refuse_admin_change(actor, role)
    try:
        address = normalize_email(email)
    except InvalidEmail as exc:
        raise InvalidRequest("The email is not valid.", details=[{"field": "email", "problem": str(exc)}]) from exc
    if not domains.is_verified(org_id, domain_of_email(address)):
        outcome = invitations.invite(org_id, actor, [invitations.InviteItem(address, role.value)], role, principal)
        result = outcome.results[0]
        if result.status == Outcome.ALREADY_MEMBER:
            raise AlreadyMember()
        if result.status == Outcome.INVITATION_QUOTA_EXCEEDED:
            raise InvitationQuotaExceeded(result.message, retry_after=result.retry_after)
        if result.status == Outcome.FORBIDDEN:
            raise Forbidden(result.message or NO_LONGER_ALLOWED)
        status = Outcome.INVITED if result.status == Outcome.INVITED else Outcome.ALREADY_INVITED
        return AddOutcome(status, address, role, invitation_id=result.invitation_id)

    def attempt() -> Member:
        tx = Tx()
        account = accounts.found_or_added_to(tx, address)
        member = add_membership_to(tx, org_id, account, role, seat=seat)
        details = {"email": account.email, "role": role.value}
        audit.record(tx, org_id, actor, "member.added", account.account_id, details)
        if seat:
            audit.record(
                tx, org_id, actor, "seat.assigned", account.account_id, {"email": account.email, "notify": True}
            )
        caller_still(tx, caller, Permission.MANAGE_SEATS if seat else Permission.MANAGE_MEMBERS)
        tx.commit()  # another transaction held the org item (TransactionConflict): tried again
        return member

    return AddOutcome(Outcome.ADDED, address, role, member=retry_races(attempt))


def change_role(org_id: str, actor: Actor, account_id: str, role: Role) -> Member:
    """Admins change others' roles; the last admin cannot be demoted."""
    caller = authorize(org_id, actor, Permission.MANAGE_ROLES)
    if account_id == actor.account_id:
        raise CannotChangeOwnRole()

    def attempt() -> Member:
        item = get_item(org_id, account_id)
        if item is None:
            raise NotFound("No such member.")
        old = item.role
        refuse_admin_change(actor, old, role)
        if old is role:
            return item
        stamp = now()
        tx = Tx()
        # Changed since read: read again, whatever the org said.
        member_rows.change_role_in(tx, item, role, stamp, on_fail=lost_race)
        if old is Role.ACCOUNT_ADMIN:
            org_rows.count_in(tx, org_id, admins=-1, on_fail=LastAdmin)
        elif role is Role.ACCOUNT_ADMIN:
            org_rows.count_in(tx, org_id, admins=1)
        audit.record(tx, org_id, actor, "member.role_changed", account_id, {"from": old.value, "to": role.value})
        caller_still(tx, caller, Permission.MANAGE_ROLES)
        tx.commit()
        return replace(item, role=role, updated_at=stamp)

    return retry_races(attempt)


def remove_member(org_id: str, actor: Actor, account_id: str) -> None:
    """Admins remove anyone, members remove themselves (leave).

    Frees the seat in the same transaction; the Members stream then revokes
    the member's tokens, and verification refuses them at once because the
    membership is gone (invariant 4).
    """
    caller = authorize(org_id, actor, Permission.READ_ORG)
    leaving = account_id == actor.account_id
    if not leaving:
        require_granted(actor, caller, Permission.MANAGE_MEMBERS)

    def attempt() -> None:
        item = get_item(org_id, account_id)
        if item is None:
            raise NotFound("No such member.")
        refuse_admin_change(actor, item.role)
        tx = Tx()
        member_rows.delete_in(tx, item, on_fail=lost_race)  # changed since read: read again
        admin = item.role is Role.ACCOUNT_ADMIN
        org_rows.count_in(
            tx, org_id, members=-1, admins=-int(admin), seats=-int(item.has_seat), on_fail=LastAdmin if admin else None
        )
        clear_member_slot(tx, org_id, item.email)
        audit.record(
            tx, org_id, actor, "member.left" if leaving else "member.removed", account_id, {"email": item.email}
        )
        if not leaving:
            caller_still(tx, caller, Permission.MANAGE_MEMBERS)
        tx.commit()

    retry_races(attempt)


def memberships_of(account_id: str) -> list[Member]:
    """Every org an account belongs to (GET /v1/me)."""
    return member_rows.of_account(account_id)
