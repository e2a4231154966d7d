"""Reissue and remove invitations, one or many: conditional updates of existing invitations.

Each id is one conditioned update with its audit record, committed through
the bulk engine (``abuse_limits.commit_within``: resends are charged against
the daily quotas); a failed condition's old image names the outcome
(``not_found``, ``already_accepted``, ``already_member``, ``already_removed``,
``resend_too_soon`` with the seconds left). A reissue gives a new link
nonce and seven more days and queues the email again; a removal stops the
link at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from ..clock import iso, now, parse_iso
from ..config import get_settings
from ..domain.errors import AlreadyAccepted, AlreadyMember, Forbidden, NotFound, ResendQuotaExceeded, ResendTooSoon
from ..domain.invitations import ACCEPTED, EXPIRED, PENDING, QUEUED, REVOKED, BulkOutcome, IdResult, Invitation
from ..domain.models import Actor, Member, Principal
from ..domain.outcomes import REMOVE_OUTCOMES, RESEND_OUTCOMES, Outcome, tally
from ..domain.roles import Permission, Role
from ..storage.base import Tx, TxItem
from ..storage.invitations import NO_INVITATION, InvitationModel, pending_shard_of
from . import abuse_limits, audit, invitation_links, invitations, members
from .invitations import Op


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


def _update_op(
    org_id: str, actor: Actor, invitation_id: str, actions: list[Any], condition: Condition, audit_action: str
) -> Op:
    """A conditional update of one invitation plus its audit record (the old item on failure)."""

    def add(tx: Tx) -> TxItem:
        write = tx.update(InvitationModel(org_id, invitation_id), actions, condition=condition, return_old=True)
        audit.record(tx, org_id, actor, audit_action, invitation_id)
        return write

    key = (org_id, invitation_id)
    return Op(key=key, add=add, old_of=invitations.old_of(key))


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
    abuse_limits.commit_within([op for op, _ in ops], charges or [], invitations.caller_guard(caller))
    invitations.refuse_if_forbidden([op for op, _ in ops])
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
    stamp, inviter = now(), invitations.inviter_of(actor, principal)
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
    return invitations.to_invitation(invitations.visible(org_id, invitation_id))


def remove(org_id: str, actor: Actor, invitation_id: str) -> None:
    """Remove one invitation; removing a removed one changes nothing."""
    outcome = remove_many(org_id, actor, [invitation_id])
    _raise_for(outcome.results[0])
