"""Invitations: invite (one or many), list, get (reissue and remove: ``invitation_changes``;
acceptance: ``invitation_accept``; expiry: ``invitation_expiry``; email: ``invitation_delivery``).

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

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ..clock import now
from ..config import get_settings
from ..domain.emails import InvalidEmail, normalize_email
from ..domain.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    TooManyRows,
)
from ..domain.invitations import (
    NO_INVITATION,
    PENDING,
    QUEUED,
    BulkOutcome,
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    InviteItem,
    InviteResult,
    StoredInvitation,
    delivery_at,
    status_at,
)
from ..domain.models import Actor, Member, Page, Principal
from ..domain.outcomes import INVITE_OUTCOMES, Outcome, tally
from ..domain.roles import Permission, Role
from ..storage import invitations as slots
from ..storage.base import CancelReason, Tx, TxItem
from ..storage.bulk import Guard
from ..storage.invitations import slot_id
from . import abuse_limits, accounts, audit, invitation_links, members

MAX_ITEMS = 1000

Op = abuse_limits.ChargedOp[StoredInvitation]


# --- domain view -------------------------------------------------------------


def effective_status(item: StoredInvitation, at: datetime | None = None) -> InvitationStatus:
    """The invitation's status now (``domain.invitations.status_at``)."""
    return status_at(item.status, item.expires_at, at or now())


def delivery_of(item: StoredInvitation, at: datetime | None = None) -> tuple[DeliveryStatus | None, str | None]:
    """The email's (status, error) now (``domain.invitations.delivery_at``)."""
    lease = timedelta(seconds=get_settings().send_lease_seconds)
    return delivery_at(item.delivery_status, item.delivery_error, item.send_claimed_at, lease, at or now())


def to_invitation(item: StoredInvitation) -> Invitation:
    delivery_status, delivery_error = delivery_of(item)
    return Invitation(
        invitation_id=item.invitation_id,
        org_id=item.org_id,
        email=item.email,
        role=Role(item.role or Role.MEMBER.value),
        status=effective_status(item),
        expires_at=item.expires_at,
        issue=item.issue,
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


def old_of(key: tuple[str, str]) -> Callable[[CancelReason], StoredInvitation | None]:
    """The slot that failed an op's condition: the reason's old image, else (engines without one) a read."""
    return lambda reason: slots.of_image(reason.item) if reason.item else slots.get(*key)


def caller_guard(caller: Member | None) -> Guard:
    """The check every chunk of an admin's bulk call carries: the caller still manages invitations."""
    return lambda tx: members.caller_still(tx, caller, Permission.MANAGE_INVITATIONS)


def refuse_if_forbidden(ops: Sequence[Op]) -> None:
    """A call whose caller lost the power before anything was written is refused whole (403, nothing changed)."""
    if any(op.forbidden for op in ops) and not any(op.applied for op in ops):
        raise Forbidden(members.NO_LONGER_ALLOWED)


def inviter_of(actor: Actor, principal: Principal | None = None) -> str | None:
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
    inviter = inviter_of(actor, principal)
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
    abuse_limits.commit_within([op for op, _ in ops], charges, caller_guard(caller))
    refuse_if_forbidden([op for op, _ in ops])
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


def new_invitation(
    org_id: str, email: str, role: Role, actor: Actor, inviter: str | None, stamp: datetime
) -> StoredInvitation:
    """A fresh pending invitation in the (org, email) slot: issue 1, a new link nonce, email queued."""
    return StoredInvitation(
        org_id=org_id,
        invitation_id=slot_id(org_id, email),
        email=email,
        role=role.value,
        status=PENDING,
        expires_at=stamp + timedelta(days=get_settings().invitation_ttl_days),
        issue=1,
        link_nonce=invitation_links.new_nonce(),
        invited_by=actor.actor,
        inviter=inviter,
        created_at=stamp,
        updated_at=stamp,
        issued_at=stamp,
        delivery_status=QUEUED,
    )


def _invite_op(org_id: str, actor: Actor, email: str, role: Role, inviter: str | None, stamp: datetime) -> Op:
    """A put of a fresh invitation into its free (org, email) slot, with its audit record.

    A new invitation starts again at issue 1; its fresh nonce retires any old link.
    """
    invitation = new_invitation(org_id, email, role, actor, inviter, stamp)

    def add(tx: Tx) -> TxItem:
        write = slots.put_new_in(tx, invitation, stamp)
        details = {"email": email, "role": role.value}
        audit.record(tx, org_id, actor, "invitation.created", invitation.invitation_id, details)
        return write

    key = (org_id, invitation.invitation_id)
    return Op(key=key, add=add, old_of=old_of(key))


# --- list and get --------------------------------------------------------------


def list_invitations(
    org_id: str, actor: Actor, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    """Invitations of an org (never the member-only marks), optionally by effective status."""
    members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    items, next_cursor = slots.page_of(org_id, status, now(), limit, cursor)
    return Page(items=[to_invitation(i) for i in items], next_cursor=next_cursor)


def visible(org_id: str, invitation_id: str) -> StoredInvitation:
    item = slots.get(org_id, invitation_id) if invitation_id.startswith("inv_") else None
    if item is None or item.status == NO_INVITATION:
        raise NotFound("No such invitation.")
    return item


def get_invitation(org_id: str, actor: Actor, invitation_id: str) -> Invitation:
    members.authorize(org_id, actor, Permission.MANAGE_INVITATIONS)
    return to_invitation(visible(org_id, invitation_id))
