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

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ..clock import now
from ..config import get_settings
from ..domain.errors import AlreadyAccepted, AlreadyMember, Forbidden, NotFound, ResendQuotaExceeded, ResendTooSoon
from ..domain.invitations import (
    BulkOutcome,
    IdResult,
    Invitation,
    StoredInvitation,
    cooldown_left,
    remove_refusal,
    resend_refusal,
)
from ..domain.models import Actor, Member, Principal
from ..domain.outcomes import REMOVE_OUTCOMES, RESEND_OUTCOMES, Outcome, tally
from ..domain.roles import Permission
from ..storage import invitations as slots
from ..storage.base import Tx, TxItem
from . import abuse_limits, audit, invitation_links, invitations, members
from .invitations import Op


def _op(org_id: str, actor: Actor, invitation_id: str, write: Callable[[Tx], TxItem], audit_action: str) -> Op:
    """One invitation's conditional write plus its audit record (the old item on failure)."""

    def add(tx: Tx) -> TxItem:
        item = write(tx)
        audit.record(tx, org_id, actor, audit_action, invitation_id)
        return item

    key = (org_id, invitation_id)
    return Op(key=key, add=add, old_of=invitations.old_of(key))


def _cooldown() -> timedelta:
    return timedelta(seconds=get_settings().resend_cooldown_seconds)


def _resend_op(org_id: str, actor: Actor, invitation_id: str, inviter: str | None, stamp: datetime) -> Op:
    """A reissue: a new link nonce, seven more days, the email queued again (``slots.reissue_in``)."""

    nonce = invitation_links.new_nonce()  # one per op: a retried chunk writes the same new link

    def write(tx: Tx) -> TxItem:
        return slots.reissue_in(
            tx,
            org_id,
            invitation_id,
            nonce=nonce,
            expires_at=stamp + timedelta(days=get_settings().invitation_ttl_days),
            invited_by=actor.actor,
            inviter=inviter,
            at=stamp,
            issued_before=stamp - _cooldown(),
            # A new link to an admin invitation would hand a service account admin power.
            not_admin=actor.is_service_account,
        )

    return _op(org_id, actor, invitation_id, write, "invitation.reissued")


ADMIN_INVITATION_REFUSED = "A service account may not send an account_admin invitation again."


def _remove_op(org_id: str, actor: Actor, invitation_id: str, stamp: datetime) -> Op:
    return _op(
        org_id, actor, invitation_id, lambda tx: slots.revoke_in(tx, org_id, invitation_id, stamp), "invitation.removed"
    )


def _bulk_by_id(
    org_id: str,
    caller: Member | None,
    invitation_ids: Sequence[str],
    make: Callable[[str], Op],
    done: Outcome,
    failure: Callable[[StoredInvitation | None], Outcome],
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
                result.retry_after = cooldown_left(op.old, stamp or now(), _cooldown())
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
        lambda old: resend_refusal(old, actor.is_service_account),
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
        remove_refusal,
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
