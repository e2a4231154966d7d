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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

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
from ..storage.base import (
    CancelReason,
    Failure,
    Tx,
    TxItem,
    cursor_page,
    key_fits,
    lost_race,
    retry_races,
)
from ..storage.invitations import NO_INVITATION, InvitationModel, slot_id
from ..storage.members import MemberModel
from ..storage.orgs import OrgModel
from . import accounts, audit, domains, invitations

T = TypeVar("T")


def to_member(item: MemberModel) -> Member:
    return Member(
        org_id=item.org_id,
        account_id=item.account_id,
        email=item.email,
        role=Role(item.role),
        has_seat=bool(item.has_seat),
        seat_generation=int(item.seat_generation or 0),
        joined_at=item.joined_at,
        updated_at=item.updated_at,
        seat_assigned_at=item.seat_assigned_at,
        name=item.name,
        external_id=item.external_id,
    )


def get_item(org_id: str, account_id: str) -> MemberModel | None:
    if not key_fits(org_id, account_id):
        return None
    try:
        return MemberModel.get(org_id, account_id, consistent_read=True)
    except DoesNotExist:
        return None


def standing_of(org_id: str, account_id: str) -> Standing | None:
    """A member's role and membership, read consistently (None: not a member)."""
    item = get_item(org_id, account_id)
    return Standing(role=item.role, joined_at=item.joined_at) if item else None


def find(org_id: str, account_id: str) -> Member | None:
    item = get_item(org_id, account_id)
    return to_member(item) if item else None


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
    tx.guard(
        MemberModel,
        org_id,
        account_id,
        still_holds_condition(permission, joined_at),
        lambda: Forbidden(NO_LONGER_ALLOWED),
        lambda: still_holds(get_item(org_id, account_id), permission, joined_at),
    )


def still_holds(item: MemberModel | Standing | None, permission: Permission, joined_at: datetime | None) -> bool:
    """Whether a member item still has ``permission``, in the membership that joined at ``joined_at``
    (None: any); the check behind ``caller_still`` and behind the credentials an admin makes."""
    if item is None or item.role not in {r.value for r in roles_with(permission)}:
        return False
    return joined_at is None or item.joined_at == joined_at


def still_holds_condition(permission: Permission, joined_at: datetime | None) -> Condition:
    """``still_holds`` as a DynamoDB condition on the member item, for a change's own transaction."""
    condition = MemberModel.role.is_in(*[r.value for r in roles_with(permission)])
    return condition if joined_at is None else condition & (MemberModel.joined_at == joined_at)


def holds_in(
    tx: Tx, org_id: str, account_id: str, permission: Permission, joined_at: datetime | None, on_fail: Failure
) -> TxItem:
    """Condition the transaction on a member still holding ``permission`` in the same membership.

    For credentials an admin made (the maker, not the caller, must still hold
    the power); ``on_fail`` says what its failure means to the credential's user.
    """
    return tx.check(MemberModel, org_id, account_id, still_holds_condition(permission, joined_at), on_fail=on_fail)


def unchanged(item: MemberModel) -> Condition:
    """Condition: the member item is as we read it (role and seat)."""
    return (
        MemberModel.account_id.exists()
        & (MemberModel.role == item.role)
        & (MemberModel.has_seat == bool(item.has_seat))
        & (MemberModel.seat_generation == int(item.seat_generation or 0))
    )


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
    filters: Condition | None = None
    if role is not None:
        filters = MemberModel.role == role.value
    if seat is not None:
        by_seat = MemberModel.has_seat == seat
        filters = by_seat if filters is None else filters & by_seat
    key_names = ("org_id", "account_id", "email") if email_prefix else ("org_id", "account_id")

    def query(start: dict[str, Any] | None) -> Any:
        if email_prefix:
            return MemberModel.by_email.query(
                org_id,
                MemberModel.email.startswith(email_prefix.strip().lower()),
                filter_condition=filters,
                limit=limit,
                last_evaluated_key=start,
            )
        return MemberModel.query(org_id, filter_condition=filters, limit=limit, last_evaluated_key=start)

    items, next_cursor = cursor_page(cursor, {"org_id": org_id}, key_names, query)
    return Page(items=[to_member(i) for i in items], next_cursor=next_cursor)


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


def new_member_item(
    org_id: str, account: accounts.Account, role: Role, *, seat: bool = False, extra: dict[str, Any] | None = None
) -> MemberModel:
    """``extra``: further member attributes set at creation (SCIM externalId, profile, the IdP's name).

    The member's name starts as the account's own; an ``extra`` name (from an
    identity provider) is this org's alone and replaces it on this membership.
    """
    stamp = now()
    attributes: dict[str, Any] = {"name": account.name, **(extra or {})}
    return MemberModel(
        org_id,
        account.account_id,
        email=account.email,
        role=role.value,
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
    dies here (no nonce), the expiry job stops seeing it (no shard), and it
    leaves the invitation list, so it cannot re-admit the person after a
    later removal (invariant 5).
    """
    tx.update(
        InvitationModel(org_id, slot_id(org_id, email)),
        [
            InvitationModel.member_account_id.set(account_id),
            InvitationModel.email.set(InvitationModel.email | email),
            InvitationModel.status.set(NO_INVITATION),
            InvitationModel.link_nonce.remove(),
            InvitationModel.pending_shard.remove(),
        ],
    )


def clear_member_slot(tx: Tx, org_id: str, email: str) -> None:
    """Record on the (org, email) slot that this email is no longer a member."""
    tx.update(InvitationModel(org_id, slot_id(org_id, email)), [InvitationModel.member_account_id.remove()])


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
) -> MemberModel:
    """Add "account joins org" to a transaction: member put + org counters + email slot.

    With ``seat`` the org's ``seats_used`` grows under ``used < capacity``.
    What a failure means is declared here: ``if_member`` when the account is a
    member already, ``if_org_refuses`` when the org update fails (default: 402
    ``seat_limit_reached`` with ``seat``, else 404 for the org). Invitation
    acceptance updates the slot itself (``mark_slot=False``): one operation
    per item per transaction.
    """
    item = new_member_item(org_id, account, role, seat=seat, extra=extra)
    tx.put(item, condition=MemberModel.account_id.does_not_exist(), on_fail=if_member)
    actions = [OrgModel.member_count.add(1)]
    condition: Condition = OrgModel.org_id.exists()
    if role is Role.ACCOUNT_ADMIN:
        actions.append(OrgModel.admin_count.add(1))
    if seat:
        actions.append(OrgModel.seats_used.add(1))
        condition = condition & (OrgModel.seats_used < OrgModel.seat_capacity)
    if if_org_refuses is None:
        if_org_refuses = SeatLimitReached if seat else _no_such_org
    tx.update(OrgModel(org_id), actions=actions, condition=condition, on_fail=if_org_refuses)
    if mark_slot:
        mark_member_slot(tx, org_id, account.email, account.account_id)
    return item


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
        item = add_membership_to(tx, org_id, account, role, seat=seat)
        details = {"email": account.email, "role": role.value}
        audit.record(tx, org_id, actor, "member.added", account.account_id, details)
        if seat:
            audit.record(
                tx, org_id, actor, "seat.assigned", account.account_id, {"email": account.email, "notify": True}
            )
        caller_still(tx, caller, Permission.MANAGE_SEATS if seat else Permission.MANAGE_MEMBERS)
        tx.commit()  # another transaction held the org item (TransactionConflict): tried again
        return to_member(item)

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
        old = Role(item.role)
        refuse_admin_change(actor, old, role)
        if old is role:
            return to_member(item)
        stamp = now()
        tx = Tx()
        tx.update(
            item,
            actions=[MemberModel.role.set(role.value), MemberModel.updated_at.set(stamp)],
            condition=unchanged(item),
            on_fail=lost_race,  # changed since read: read again, whatever the org said
        )
        if old is Role.ACCOUNT_ADMIN:
            tx.update(
                OrgModel(org_id), [OrgModel.admin_count.add(-1)], condition=OrgModel.admin_count > 1, on_fail=LastAdmin
            )
        elif role is Role.ACCOUNT_ADMIN:
            tx.update(OrgModel(org_id), [OrgModel.admin_count.add(1)], condition=OrgModel.org_id.exists())
        audit.record(tx, org_id, actor, "member.role_changed", account_id, {"from": old.value, "to": role.value})
        caller_still(tx, caller, Permission.MANAGE_ROLES)
        tx.commit()
        item.role, item.updated_at = role.value, stamp
        return to_member(item)

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
        refuse_admin_change(actor, Role(item.role))
        tx = Tx()
        tx.delete(item, condition=unchanged(item), on_fail=lost_race)  # changed since read: read again
        actions = [OrgModel.member_count.add(-1)]
        condition: Condition = OrgModel.org_id.exists()
        last_admin: Failure | None = None
        if item.role == Role.ACCOUNT_ADMIN.value:
            actions.append(OrgModel.admin_count.add(-1))
            condition, last_admin = OrgModel.admin_count > 1, LastAdmin
        if item.has_seat:
            actions.append(OrgModel.seats_used.add(-1))
        tx.update(OrgModel(org_id), actions, condition=condition, on_fail=last_admin)
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
    return [to_member(i) for i in MemberModel.by_account.query(account_id)]
