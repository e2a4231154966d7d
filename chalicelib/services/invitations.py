"""Invitations: invite (one or many), list, get, reissue, remove (acceptance: ``invitation_accept``;
expiry: ``invitation_expiry``).

One item per (org, email) (``storage.invitations``) makes every decision a
condition of the write itself: a bulk invite puts up to 40 invitations and
their 40 audit records in one TransactWriteItems, each invitation conditioned
on "no member, no live pending invitation". When the transaction is cancelled
the reasons (with the old item, ``return_old``) say which emails were
``already_member`` / ``already_invited``; those are dropped and the rest of
the chunk is retried (``storage.bulk``). No prior reads, so 1,000 new emails
cost 25 requests.
Emails are sent later by the Invitations stream (``invitation_delivery``).

Abuse limits (``abuse_limits``): invitations and resends are counted against
daily quotas of the org and of the inviting account, charged in the first
transaction that writes one (so concurrent calls never pass a limit); items
over a quota get the per-item status ``invitation_quota_exceeded`` /
``resend_quota_exceeded``. A resend within ``resend_cooldown_seconds`` of the
last (re)issue is refused by its own condition (``resend_too_soon``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from ..clock import iso, now, parse_iso
from ..config import get_settings
from ..domain.emails import InvalidEmail, normalize_email
from ..domain.errors import (
    AlreadyAccepted,
    AlreadyMember,
    Forbidden,
    InvalidRequest,
    NotFound,
    ResendQuotaExceeded,
    ResendTooSoon,
    TooManyRows,
)
from ..domain.invitations import (
    ACCEPTED,
    EXPIRED,
    FAILED,
    PENDING,
    QUEUED,
    REVOKED,
    SENDING,
    STATUSES,
    BulkOutcome,
    DeliveryStatus,
    IdResult,
    Invitation,
    InvitationStatus,
    InviteItem,
    InviteResult,
)
from ..domain.models import Actor, Member, Page, Principal
from ..domain.outcomes import INVITE_OUTCOMES, REMOVE_OUTCOMES, RESEND_OUTCOMES, Outcome, tally
from ..domain.roles import Permission, Role
from ..storage.base import CancelReason, Tx, TxItem, cursor_page
from ..storage.bulk import Guard
from ..storage.invitations import NO_INVITATION, InvitationModel, pending_shard_of, slot_id
from . import abuse_limits, accounts, audit, invitation_links, members

MAX_ITEMS = 1000

Op = abuse_limits.ChargedOp[InvitationModel]


# --- domain view -------------------------------------------------------------


def effective_status(item: InvitationModel, at: datetime | None = None) -> InvitationStatus:
    """A pending invitation past its expiry is expired, whether or not the job has run."""
    if item.status == PENDING and item.expires_at and item.expires_at <= iso(at or now()):
        return EXPIRED
    return InvitationStatus(item.status)


STUCK_SEND = "The email was not confirmed sent; it is sent again within the hour (or resend it)."


def delivery_of(item: InvitationModel, at: datetime | None = None) -> tuple[DeliveryStatus | None, str | None]:
    """(status, error) of the invitation's email: a send claimed longer than its lease ago is ``failed``.

    Its process died between claiming and recording; until a replay or the
    hourly job takes it again, nobody should read "sending" as "on its way".
    """
    if item.delivery_status == SENDING and item.send_claimed_at:
        lease = timedelta(seconds=get_settings().send_lease_seconds)
        if item.send_claimed_at <= iso((at or now()) - lease):
            return FAILED, STUCK_SEND
    status = DeliveryStatus(item.delivery_status) if item.delivery_status else None
    return status, item.delivery_error


def to_invitation(item: InvitationModel) -> Invitation:
    delivery_status, delivery_error = delivery_of(item)
    return Invitation(
        invitation_id=item.invitation_id,
        org_id=item.org_id,
        email=item.email,
        role=Role(item.role or Role.MEMBER.value),
        status=effective_status(item),
        expires_at=parse_iso(item.expires_at) if item.expires_at else None,
        issue=int(item.issue or 0),
        invited_by=item.invited_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        accepted_at=item.accepted_at,
        accepted_by=item.accepted_by,
        revoked_at=item.revoked_at,
        delivery_status=delivery_status,
        delivery_error=delivery_error,
        delivered_at=item.delivered_at,
    )


def _from_raw(raw: dict[str, Any] | None) -> InvitationModel | None:
    """An item from a cancellation reason's old image (DynamoDB JSON)."""
    if not raw:
        return None
    return InvitationModel.from_raw_data(raw)


def get_item(org_id: str, invitation_id: str) -> InvitationModel | None:
    try:
        return InvitationModel.get(org_id, invitation_id, consistent_read=True)
    except DoesNotExist:
        return None


def _old_of(key: tuple[str, str]) -> Callable[[CancelReason], InvitationModel | None]:
    """The item that failed an op's condition: the reason's old image, else (engines without one) a read."""
    return lambda reason: _from_raw(reason.item) if reason.item else get_item(*key)


def _caller_guard(caller: Member | None) -> Guard:
    """The check every chunk of an admin's bulk call carries: the caller still manages invitations."""
    return lambda tx: members.caller_still(tx, caller, Permission.MANAGE_INVITATIONS)


def _refuse_if_forbidden(ops: Sequence[Op]) -> None:
    """A call whose caller lost the power before anything was written is refused whole (403, nothing changed)."""
    if any(op.forbidden for op in ops) and not any(op.applied for op in ops):
        raise Forbidden(members.NO_LONGER_ALLOWED)


def _issue_actions(invitation_id: str, actor: Actor, inviter: str | None, stamp: datetime) -> list[Any]:
    """What a reissue sets: a new link nonce, a new expiry, the next issue number, email queued again."""
    expires = stamp + timedelta(days=get_settings().invitation_ttl_days)
    actions: list[Any] = [
        InvitationModel.status.set(PENDING),
        InvitationModel.expires_at.set(iso(expires)),
        InvitationModel.pending_shard.set(pending_shard_of(invitation_id)),
        InvitationModel.issue.set((InvitationModel.issue | 0) + 1),
        InvitationModel.link_nonce.set(invitation_links.new_nonce()),
        InvitationModel.invited_by.set(actor.actor),
        InvitationModel.updated_at.set(stamp),
        InvitationModel.issued_at.set(iso(stamp)),
        InvitationModel.delivery_status.set(QUEUED),
        InvitationModel.sending_shard.remove(),
        InvitationModel.send_claimed_at.remove(),
        InvitationModel.delivery_error.remove(),
        InvitationModel.delivered_at.remove(),
        InvitationModel.revoked_at.remove(),
        InvitationModel.accepted_at.remove(),
        InvitationModel.accepted_by.remove(),
    ]
    actions.append(InvitationModel.inviter.set(inviter) if inviter else InvitationModel.inviter.remove())
    return actions


def _inviter_of(actor: Actor, principal: Principal | None = None) -> str | None:
    """How the email names who invited: the caller's email (known from authentication), else a lookup."""
    if principal is not None and principal.account_id == actor.account_id:
        return principal.email
    if not actor.account_id:
        return None
    account = accounts.get(actor.account_id)
    return account.email if account else None


# --- invite ------------------------------------------------------------------


def _role_of(raw: str | None, default: Role) -> Role | None:
    if raw is None or not raw.strip():
        return default
    try:
        return Role(raw.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        return None


def invite(
    org_id: str,
    actor: Actor,
    items: Sequence[InviteItem],
    default_role: Role = Role.MEMBER,
    principal: Principal | None = None,
) -> BulkOutcome:
    """Invite many; one result per item in input order. Bad items never fail the others."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    if len(items) > MAX_ITEMS:
        raise TooManyRows(f"At most {MAX_ITEMS} invitations per request.")
    members.refuse_admin_change(actor, default_role, *(r for i in items if (r := _role_of(i.role, default_role))))
    if not items:
        raise InvalidRequest("Nothing to invite.", details=[{"field": "emails", "problem": "empty"}])
    results: list[InviteResult] = []
    first_seen: dict[str, InviteResult] = {}
    ops: list[tuple[Op, InviteResult]] = []
    stamp = now()
    inviter = _inviter_of(actor, principal)
    for item in items:
        try:
            email = normalize_email(item.email)
        except InvalidEmail as exc:
            results.append(
                InviteResult(email=item.email, status=Outcome.INVALID_EMAIL, line=item.line, message=str(exc))
            )
            continue
        role = _role_of(item.role, default_role)
        if role is None:
            results.append(
                InviteResult(
                    email=email,
                    status=Outcome.INVALID_ROLE,
                    line=item.line,
                    message=f"role must be one of {', '.join(r.value for r in Role)}",
                )
            )
            continue
        if email in first_seen:
            earlier = first_seen[email]
            where = f"line {earlier.line}" if earlier.line is not None else "earlier in this request"
            results.append(
                InviteResult(
                    email=email,
                    status=Outcome.DUPLICATE_IN_REQUEST,
                    line=item.line,
                    role=role.value,
                    message=f"same as {where}",
                )
            )
            continue
        result = InviteResult(email=email, status=Outcome.INVITED, line=item.line, role=role.value)
        first_seen[email] = result
        results.append(result)
        ops.append((_invite_op(org_id, actor, email, role, inviter, stamp), result))
    charges = abuse_limits.charges(org_id, actor, abuse_limits.INVITATIONS, stamp) if ops else []
    abuse_limits.commit_within([op for op, _ in ops], charges, _caller_guard(caller))
    _refuse_if_forbidden([op for op, _ in ops])
    for op, result in ops:
        result.invitation_id = op.key[1]
        if op.forbidden:
            result.status, result.invitation_id = Outcome.FORBIDDEN, None
        elif op.refused is not None:
            result.status, result.message = op.refused.status, op.refused.message
            result.retry_after = op.refused.retry_after
            result.invitation_id = None
        elif op.failed:
            old = op.old
            if old is not None and old.member_account_id:
                result.status, result.account_id = Outcome.ALREADY_MEMBER, old.member_account_id
            else:
                result.status = Outcome.ALREADY_INVITED
    return BulkOutcome(results=results, summary=tally(results, INVITE_OUTCOMES))


def new_invitation_item(
    org_id: str, email: str, role: Role, actor: Actor, inviter: str | None, stamp: datetime
) -> InvitationModel:
    """A fresh pending invitation in the (org, email) slot: issue 1, a new link nonce, email queued."""
    invitation_id = slot_id(org_id, email)
    return InvitationModel(
        org_id,
        invitation_id,
        email=email,
        role=role.value,
        status=PENDING,
        expires_at=iso(stamp + timedelta(days=get_settings().invitation_ttl_days)),
        pending_shard=pending_shard_of(invitation_id),
        issue=1,
        link_nonce=invitation_links.new_nonce(),
        invited_by=actor.actor,
        inviter=inviter,
        created_at=stamp,
        updated_at=stamp,
        issued_at=iso(stamp),
        delivery_status=QUEUED,
    )


def _invite_op(org_id: str, actor: Actor, email: str, role: Role, inviter: str | None, stamp: datetime) -> Op:
    """A conditional put of a fresh invitation into the (org, email) slot.

    A put, not an update: the slot it replaces holds no member and no live
    invitation (the condition), so nothing of it is worth keeping, and a put
    is much cheaper for the engine than a long update expression. A new
    invitation starts again at issue 1; its fresh nonce retires any old link.
    """
    item = new_invitation_item(org_id, email, role, actor, inviter, stamp)
    invitation_id = item.invitation_id
    # Free slot: never used, or no member and no live pending invitation (an expired one may be replaced).
    condition = InvitationModel.org_id.does_not_exist() | (
        InvitationModel.member_account_id.does_not_exist()
        & ((InvitationModel.status != PENDING) | (InvitationModel.expires_at <= iso(stamp)))
    )

    def add(tx: Tx) -> TxItem:
        write = tx.put(item, condition=condition, return_old=True)
        audit.record(tx, org_id, actor, "invitation.created", invitation_id, {"email": email, "role": role.value})
        return write

    key = (org_id, invitation_id)
    return Op(key=key, add=add, old_of=_old_of(key))


# --- list and get --------------------------------------------------------------


def _status_filter(status: str | None, at: str) -> Condition:
    if status is None:
        return InvitationModel.status.is_in(*STATUSES)
    if status == PENDING:
        return (InvitationModel.status == PENDING) & (InvitationModel.expires_at > at)
    if status == EXPIRED:
        return (InvitationModel.status == EXPIRED) | (
            (InvitationModel.status == PENDING) & (InvitationModel.expires_at <= at)
        )
    return InvitationModel.status == status


def list_invitations(
    org_id: str, actor: Actor, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    """Invitations of an org (never the member-only marks), optionally by effective status."""
    members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    filters = _status_filter(status, iso(now()))
    items, next_cursor = cursor_page(
        cursor,
        {"org_id": org_id},
        ("org_id", "invitation_id"),
        lambda start: InvitationModel.query(org_id, filter_condition=filters, limit=limit, last_evaluated_key=start),
    )
    return Page(items=[to_invitation(i) for i in items], next_cursor=next_cursor)


def _visible(org_id: str, invitation_id: str) -> InvitationModel:
    item = get_item(org_id, invitation_id) if invitation_id.startswith("inv_") else None
    if item is None or item.status == NO_INVITATION:
        raise NotFound("No such invitation.")
    return item


def get_invitation(org_id: str, actor: Actor, invitation_id: str) -> Invitation:
    members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    return to_invitation(_visible(org_id, invitation_id))


# --- reissue and remove ----------------------------------------------------------


def _update_op(
    org_id: str, actor: Actor, invitation_id: str, actions: list[Any], condition: Condition, audit_action: str
) -> Op:
    """A conditional update of one invitation plus its audit record (the old item on failure)."""

    def add(tx: Tx) -> TxItem:
        write = tx.update(InvitationModel(org_id, invitation_id), actions, condition=condition, return_old=True)
        audit.record(tx, org_id, actor, audit_action, invitation_id)
        return write

    key = (org_id, invitation_id)
    return Op(key=key, add=add, old_of=_old_of(key))


def _cooldown_cutoff(stamp: datetime) -> str:
    return iso(stamp - timedelta(seconds=get_settings().resend_cooldown_seconds))


def _resend_op(org_id: str, actor: Actor, invitation_id: str, inviter: str | None, stamp: datetime) -> Op:
    # Resendable, and not (re)issued within the cooldown (items from before issued_at existed pass).
    condition = (
        InvitationModel.status.is_in(PENDING, EXPIRED, REVOKED)
        & InvitationModel.member_account_id.does_not_exist()
        & (InvitationModel.issued_at.does_not_exist() | (InvitationModel.issued_at <= _cooldown_cutoff(stamp)))
    )
    if actor.is_service_account:  # a new link to an admin invitation would hand out admin power
        condition &= InvitationModel.role != Role.ACCOUNT_ADMIN.value
    actions = _issue_actions(invitation_id, actor, inviter, stamp)
    return _update_op(org_id, actor, invitation_id, actions, condition, "invitation.reissued")


ADMIN_INVITATION_REFUSED = "A service account may not send an account_admin invitation again."


def _resend_failure(old: InvitationModel | None, actor: Actor) -> Outcome:
    if old is None or old.status == NO_INVITATION:
        return Outcome.NOT_FOUND
    if actor.is_service_account and old.role == Role.ACCOUNT_ADMIN.value:
        return Outcome.FORBIDDEN
    if old.status == ACCEPTED:
        return Outcome.ALREADY_ACCEPTED
    if old.member_account_id:
        return Outcome.ALREADY_MEMBER
    return Outcome.RESEND_TOO_SOON


def _cooldown_left(old: InvitationModel | None, stamp: datetime) -> int:
    """Seconds until an invitation may be resent again (at least 1)."""
    if old is None or not old.issued_at:
        return 1
    ready = parse_iso(old.issued_at) + timedelta(seconds=get_settings().resend_cooldown_seconds)
    return max(1, math.ceil((ready - stamp).total_seconds()))


def _remove_op(org_id: str, actor: Actor, invitation_id: str, stamp: datetime) -> Op:
    condition = InvitationModel.status.is_in(PENDING, EXPIRED)
    actions = [
        InvitationModel.status.set(REVOKED),
        InvitationModel.pending_shard.remove(),
        InvitationModel.revoked_at.set(stamp),
        InvitationModel.updated_at.set(stamp),
    ]
    return _update_op(org_id, actor, invitation_id, actions, condition, "invitation.removed")


def _remove_failure(old: InvitationModel | None) -> Outcome:
    if old is None or old.status == NO_INVITATION:
        return Outcome.NOT_FOUND
    if old.status == ACCEPTED:
        return Outcome.ALREADY_ACCEPTED
    return Outcome.ALREADY_REMOVED


def _bulk_by_id(
    org_id: str,
    caller: Member | None,
    invitation_ids: Sequence[str],
    make: Callable[[str], Op],
    done: Outcome,
    failure: Callable[[InvitationModel | None], Outcome],
    statuses: Sequence[Outcome],
    charges: list[abuse_limits.Charge] | None = None,
    stamp: datetime | None = None,
) -> BulkOutcome:
    results: list[IdResult] = []
    seen: set[str] = set()
    ops: list[tuple[Op, IdResult]] = []
    for invitation_id in invitation_ids:
        if not invitation_id.startswith("inv_") or len(invitation_id) > 64:
            results.append(IdResult(invitation_id, Outcome.NOT_FOUND))
            continue
        if invitation_id in seen:
            results.append(IdResult(invitation_id, Outcome.DUPLICATE_IN_REQUEST))
            continue
        seen.add(invitation_id)
        result = IdResult(invitation_id, done)
        results.append(result)
        ops.append((make(invitation_id), result))
    abuse_limits.commit_within([op for op, _ in ops], charges or [], _caller_guard(caller))
    _refuse_if_forbidden([op for op, _ in ops])
    for op, result in ops:
        if op.forbidden:
            result.status = Outcome.FORBIDDEN
        elif op.refused is not None:
            result.status, result.message = op.refused.status, op.refused.message
            result.retry_after = op.refused.retry_after
        elif op.failed:
            result.status = failure(op.old)
            if result.status == Outcome.FORBIDDEN:
                result.message = ADMIN_INVITATION_REFUSED
            if result.status == Outcome.RESEND_TOO_SOON:
                result.retry_after = _cooldown_left(op.old, stamp or now())
                when = abuse_limits.in_words(result.retry_after)
                result.message = f"It was sent a moment ago; it can be sent again {when}."
    return BulkOutcome(results=results, summary=tally(results, statuses))


def resend_many(
    org_id: str, actor: Actor, invitation_ids: Sequence[str], principal: Principal | None = None
) -> BulkOutcome:
    """Bulk reissue: new link, new expiry, status pending, email queued again."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    stamp, inviter = now(), _inviter_of(actor, principal)
    return _bulk_by_id(
        org_id,
        caller,
        invitation_ids,
        lambda i: _resend_op(org_id, actor, i, inviter, stamp),
        Outcome.RESENT,
        lambda old: _resend_failure(old, actor),
        RESEND_OUTCOMES,
        abuse_limits.charges(org_id, actor, abuse_limits.RESENDS, stamp) if invitation_ids else [],
        stamp,
    )


def remove_many(org_id: str, actor: Actor, invitation_ids: Sequence[str]) -> BulkOutcome:
    """Bulk remove: the links stop working at once."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    stamp = now()
    return _bulk_by_id(
        org_id,
        caller,
        invitation_ids,
        lambda i: _remove_op(org_id, actor, i, stamp),
        Outcome.REMOVED,
        _remove_failure,
        REMOVE_OUTCOMES,
    )


def _raise_for(result: IdResult) -> None:
    """The error of a single-item call whose bulk result is not a success."""
    status = result.status
    if status == Outcome.FORBIDDEN:
        raise Forbidden(result.message or members.NO_LONGER_ALLOWED)
    if status == Outcome.RESEND_TOO_SOON:
        raise ResendTooSoon(result.message, retry_after=result.retry_after)
    if status == Outcome.RESEND_QUOTA_EXCEEDED:
        raise ResendQuotaExceeded(result.message, retry_after=result.retry_after)
    if status in (Outcome.NOT_FOUND, Outcome.DUPLICATE_IN_REQUEST):
        raise NotFound("No such invitation.")
    if status == Outcome.ALREADY_ACCEPTED:
        raise AlreadyAccepted()
    if status == Outcome.ALREADY_MEMBER:
        raise AlreadyMember()


def resend(org_id: str, actor: Actor, invitation_id: str, principal: Principal | None = None) -> Invitation:
    """Reissue one invitation (409 ``already_accepted`` once accepted)."""
    outcome = resend_many(org_id, actor, [invitation_id], principal)
    _raise_for(outcome.results[0])
    return to_invitation(_visible(org_id, invitation_id))


def remove(org_id: str, actor: Actor, invitation_id: str) -> None:
    """Remove one invitation; removing a removed one changes nothing."""
    outcome = remove_many(org_id, actor, [invitation_id])
    _raise_for(outcome.results[0])
