"""Invitations: invite (one or many), list, get, reissue, remove, preview, accept, expire.

One item per (org, email) (``storage.invitations``) makes every decision a
condition of the write itself: a bulk invite puts up to 50 invitations and
their 50 audit records in one TransactWriteItems, each invitation conditioned
on "no member, no live pending invitation". When the transaction is cancelled
the reasons (with the old item, ``return_old``) say which emails were
``already_member`` / ``already_invited``; those are dropped and the rest of
the chunk is retried. No prior reads, so 1,000 new emails cost 20 requests.
Emails are sent later by the Invitations stream (``invitation_delivery``).

Abuse limits (``abuse_limits``): invitations and resends are counted against
daily quotas of the org and of the inviting account, charged in the first
transaction that writes one (so concurrent calls never pass a limit); items
over a quota get the per-item status ``invitation_quota_exceeded`` /
``resend_quota_exceeded``. A resend within ``resend_cooldown_seconds`` of the
last (re)issue is refused by its own condition (``resend_too_soon``).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, QueryError
from pynamodb.expressions.condition import Condition

from ..clock import iso, now, parse_iso
from ..config import get_settings
from ..domain.emails import InvalidEmail, normalize_email
from ..domain.errors import (
    AlreadyAccepted,
    AlreadyMember,
    Conflict,
    EmailMismatch,
    Forbidden,
    InvalidRequest,
    InvitationExpired,
    InvitationRevoked,
    NotFound,
    ResendQuotaExceeded,
    ResendTooSoon,
    TooManyRows,
)
from ..domain.models import Actor, Member, Page, Principal
from ..domain.roles import Permission, Role
from ..storage.base import TransactionCancelled, Tx, connection, decode_cursor, error_code, page
from ..storage.invitations import NO_INVITATION, PENDING_SHARDS, InvitationModel, pending_shard_of, slot_id
from . import abuse_limits, accounts, audit, invitation_links, keys, members, orgs, sessions

log = logging.getLogger(__name__)

MAX_ITEMS = 1000
# Each op is the invitation write + its audit record. 40 ops (80 items) per transaction:
# 25 transactions for 1,000 invitations, and DynamoDB Local's transaction cost grows
# faster than linearly with size, so full 100-item transactions were slower overall.
OPS_PER_TX = 40
CONFLICT_RETRIES = 6
PARALLEL_TX = 4  # transactions of one bulk call in flight at once

PENDING, ACCEPTED, EXPIRED, REVOKED = "pending", "accepted", "expired", "revoked"
STATUSES = (PENDING, ACCEPTED, EXPIRED, REVOKED)
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


# --- domain view -------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    invitation_id: str
    org_id: str
    email: str
    role: Role
    status: str
    expires_at: datetime | None
    issue: int
    invited_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    accepted_at: datetime | None
    accepted_by: str | None
    revoked_at: datetime | None
    delivery_status: str | None
    delivery_error: str | None
    delivered_at: datetime | None


def effective_status(item: InvitationModel, at: datetime | None = None) -> str:
    """A pending invitation past its expiry is expired, whether or not the job has run."""
    if item.status == PENDING and item.expires_at and item.expires_at <= iso(at or now()):
        return EXPIRED
    return str(item.status)


STUCK_SEND = "The email was not confirmed sent; it is sent again within the hour (or resend it)."


def delivery_of(item: InvitationModel, at: datetime | None = None) -> tuple[str | None, str | None]:
    """(status, error) of the invitation's email: a send claimed longer than its lease ago is ``failed``.

    Its process died between claiming and recording; until a replay or the
    hourly job takes it again, nobody should read "sending" as "on its way".
    """
    if item.delivery_status == SENDING and item.send_claimed_at:
        lease = timedelta(seconds=get_settings().send_lease_seconds)
        if item.send_claimed_at <= iso((at or now()) - lease):
            return FAILED, STUCK_SEND
    return item.delivery_status, item.delivery_error


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


# --- conditional bulk writes -------------------------------------------------


@dataclass
class _Op:
    """One conditional invitation write (plus its audit record) in a bulk call.

    ``add`` puts exactly the op's items into a transaction, the conditioned
    invitation write first; ``old`` receives the item that failed the
    condition (or None when the op was applied).
    """

    key: tuple[str, str]
    add: Callable[[Tx], None]
    applied: bool = False
    failed: bool = False
    old: InvitationModel | None = None
    refused: abuse_limits.Charge | None = None  # over this quota: not attempted
    forbidden: bool = False  # the caller's check failed: not written


class _QuotaRefused(Exception):
    """The quota updates of a transaction failed their condition (reasons aligned with the charges)."""

    def __init__(self, reasons: list[Any]) -> None:
        super().__init__("quota refused")
        self.reasons = reasons


Guard = Callable[[Tx], None]
FORBIDDEN = "forbidden"


def _caller_guard(caller: Member | None) -> Guard:
    """The check every chunk of an admin's bulk call carries: the caller still manages invitations."""
    return lambda tx: members.caller_still(tx, caller, Permission.MANAGE_INVITATIONS)


def _refuse_if_forbidden(ops: Sequence[_Op]) -> None:
    """A call whose caller lost the power before anything was written is refused whole (403, nothing changed)."""
    if any(op.forbidden for op in ops) and not any(op.applied for op in ops):
        raise Forbidden(members.NO_LONGER_ALLOWED)


def _commit_ops(ops: Sequence[_Op], guard: Guard | None = None) -> None:
    """Run ops in transactions of ``OPS_PER_TX``, the chunks in parallel (they touch disjoint items).

    ``guard`` adds the caller's check to every chunk's transaction; a chunk it
    refuses writes nothing and marks its ops ``forbidden``.
    """
    chunks = [list(ops[i : i + OPS_PER_TX]) for i in range(0, len(ops), OPS_PER_TX)]

    def commit(chunk: list[_Op]) -> None:
        _commit_chunk(chunk, guard=guard)

    if len(chunks) <= 1:
        for chunk in chunks:
            commit(chunk)
        return
    connection().client  # noqa: B018  (create the shared client before the threads use it)
    with ThreadPoolExecutor(max_workers=min(PARALLEL_TX, len(chunks))) as pool:
        list(pool.map(commit, chunks))


def _commit_chunk(chunk: list[_Op], extra: Callable[[Tx], None] | None = None, guard: Guard | None = None) -> bool:
    """One transaction for the chunk; ops whose condition fails are dropped and the rest retried.

    ``extra`` adds items after the ops (the quota charge); when one of them fails
    its condition, ``_QuotaRefused`` is raised. True when a commit carried ``extra``.
    ``guard`` (the caller's check) goes last; when it fails the chunk's ops are
    marked ``forbidden`` and nothing is written.
    """
    pending = [op for op in chunk if not op.failed]
    conflicts = 0
    while pending:
        tx = Tx()
        firsts = []
        for op in pending:
            firsts.append(len(tx))
            op.add(tx)
        extra_at = len(tx)
        if extra is not None:
            extra(tx)
        if guard is not None:
            guard(tx)
        try:
            tx.commit()
        except Forbidden:
            for op in pending:
                op.forbidden = True
            return False
        except TransactionCancelled as exc:
            tail = exc.reasons[extra_at:]
            if extra is not None and any(r is not None and r.code == "ConditionalCheckFailed" for r in tail):
                raise _QuotaRefused(tail) from exc
            dropped = 0
            for op, first in zip(pending, firsts, strict=True):
                reason = exc.reasons[first]
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    op.failed = True
                    op.old = _from_raw(reason.item) if reason.item else get_item(*op.key)
                    dropped += 1
            if not dropped:
                # Another transaction touched the same items (TransactionConflict): back off, retry.
                conflicts += 1
                if conflicts > CONFLICT_RETRIES:
                    raise Conflict() from exc
                time.sleep(random.uniform(0.01, 0.05) * conflicts)
            pending = [op for op in pending if not op.failed]
            continue
        for op in pending:
            op.applied = True
        return extra is not None
    return False


def _charging(charges: list[abuse_limits.Charge], n: int) -> Callable[[Tx], None]:
    def add(tx: Tx) -> None:
        for charge in charges:
            abuse_limits.add_to(tx, charge, n)

    return add


def _commit_charged(
    ops: list[_Op], charges: list[abuse_limits.Charge], guard: Guard | None = None, second_pass: bool = False
) -> None:
    """Commit ops within daily quotas: those over a quota are marked ``refused`` and not attempted.

    The charge for every op still to write rides on the first chunk that commits
    anything (chunks whose ops all fail their own conditions are charged nothing);
    the later chunks run in parallel under it, and the unused part is given back.
    A refused charge says how much room is left (the old counter): the ops beyond
    it are refused and the chunk is tried again. Ops refused while others then
    failed their own conditions (and so used no room) get one more pass.
    """
    if not charges:
        _commit_ops(ops, guard)
        return
    allowed = list(ops)

    def refuse_from(keep: int, charge: abuse_limits.Charge) -> None:
        for op in allowed[keep:]:
            op.refused = charge
        del allowed[keep:]

    smallest = abuse_limits.tightest(charges)
    refuse_from(max(0, smallest.limit), smallest)
    start, charged_from, charged = 0, 0, 0
    refusals = 0
    while start < len(allowed) and not charged:
        chunk = allowed[start : start + OPS_PER_TX]
        n = len(allowed) - start
        try:
            if _commit_chunk(chunk, _charging(charges, n), guard):
                charged_from, charged = start, n
            start += len(chunk)
        except _QuotaRefused as exc:
            refusals += 1
            if refusals > CONFLICT_RETRIES * 2:
                raise Conflict() from exc
            left, short = abuse_limits.room(charges, exc.reasons, n)
            refuse_from(start + left, short)
    unused = 0
    try:
        _commit_ops(allowed[start:], guard)
    finally:
        if charged:
            unused = charged - sum(1 for op in allowed[charged_from:] if op.applied)
            abuse_limits.give_back(charges, unused)
    refused = [op for op in ops if op.refused is not None]
    if refused and not second_pass and any(op.failed for op in allowed):
        for op in refused:
            op.refused = None
        _commit_charged(refused, charges, guard, second_pass=True)


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


@dataclass(frozen=True)
class InviteItem:
    """One invitee as given: the raw email and role (None: the request's default), and its CSV line."""

    email: str
    role: str | None = None
    line: int | None = None


@dataclass
class InviteResult:
    email: str
    status: str
    line: int | None = None
    role: str | None = None
    invitation_id: str | None = None
    account_id: str | None = None
    message: str | None = None
    retry_after: int | None = None


@dataclass
class BulkOutcome:
    results: list[Any]
    summary: dict[str, int] = field(default_factory=dict)


def _summary(results: Iterable[Any], statuses: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(statuses, 0)
    total = 0
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
        total += 1
    return {"total": total, **counts}


def _role_of(raw: str | None, default: Role) -> Role | None:
    if raw is None or not raw.strip():
        return default
    try:
        return Role(raw.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        return None


INVITE_STATUSES = (
    "invited",
    "already_invited",
    "already_member",
    "invalid_email",
    "invalid_role",
    "duplicate_in_request",
    "invitation_quota_exceeded",
)


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
    ops: list[tuple[_Op, InviteResult]] = []
    stamp = now()
    inviter = _inviter_of(actor, principal)
    for item in items:
        try:
            email = normalize_email(item.email)
        except InvalidEmail as exc:
            results.append(InviteResult(email=item.email, status="invalid_email", line=item.line, message=str(exc)))
            continue
        role = _role_of(item.role, default_role)
        if role is None:
            results.append(
                InviteResult(
                    email=email,
                    status="invalid_role",
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
                    status="duplicate_in_request",
                    line=item.line,
                    role=role.value,
                    message=f"same as {where}",
                )
            )
            continue
        result = InviteResult(email=email, status="invited", line=item.line, role=role.value)
        first_seen[email] = result
        results.append(result)
        ops.append((_invite_op(org_id, actor, email, role, inviter, stamp), result))
    charges = abuse_limits.charges(org_id, actor, abuse_limits.INVITATIONS, stamp) if ops else []
    _commit_charged([op for op, _ in ops], charges, _caller_guard(caller))
    _refuse_if_forbidden([op for op, _ in ops])
    for op, result in ops:
        result.invitation_id = op.key[1]
        if op.forbidden:
            result.status, result.invitation_id = FORBIDDEN, None
        elif op.refused is not None:
            result.status, result.message = op.refused.status, op.refused.message
            result.retry_after = op.refused.retry_after
            result.invitation_id = None
        elif op.failed:
            old = op.old
            if old is not None and old.member_account_id:
                result.status, result.account_id = "already_member", old.member_account_id
            else:
                result.status = "already_invited"
    return BulkOutcome(results=results, summary=_summary(results, INVITE_STATUSES))


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


def _invite_op(org_id: str, actor: Actor, email: str, role: Role, inviter: str | None, stamp: datetime) -> _Op:
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

    def add(tx: Tx) -> None:
        tx.put(item, condition=condition, return_old=True)
        audit.record(tx, org_id, actor, "invitation.created", invitation_id, {"email": email, "role": role.value})

    return _Op(key=(org_id, invitation_id), add=add)


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
    try:
        results = InvitationModel.query(
            org_id,
            filter_condition=_status_filter(status, iso(now())),
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, {"org_id": org_id}, ("org_id", "invitation_id")),
        )
        items, next_cursor = page(results)
    except QueryError as exc:
        if error_code(exc) != "ValidationException":
            raise
        raise InvalidRequest("The cursor is not valid.", details=[{"field": "cursor", "problem": "invalid"}]) from exc
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


@dataclass
class IdResult:
    invitation_id: str
    status: str
    message: str | None = None
    retry_after: int | None = None


RESEND_STATUSES = (
    "resent",
    "already_accepted",
    "already_member",
    "not_found",
    "duplicate_in_request",
    "resend_too_soon",
    "resend_quota_exceeded",
)
REMOVE_STATUSES = ("removed", "already_removed", "already_accepted", "not_found", "duplicate_in_request")


def _update_op(
    org_id: str, actor: Actor, invitation_id: str, actions: list[Any], condition: Condition, audit_action: str
) -> _Op:
    """A conditional update of one invitation plus its audit record (the old item on failure)."""

    def add(tx: Tx) -> None:
        tx.update(InvitationModel(org_id, invitation_id), actions, condition=condition, return_old=True)
        audit.record(tx, org_id, actor, audit_action, invitation_id)

    return _Op(key=(org_id, invitation_id), add=add)


def _cooldown_cutoff(stamp: datetime) -> str:
    return iso(stamp - timedelta(seconds=get_settings().resend_cooldown_seconds))


def _resend_op(org_id: str, actor: Actor, invitation_id: str, inviter: str | None, stamp: datetime) -> _Op:
    # Resendable, and not (re)issued within the cooldown (items from before issued_at existed pass).
    condition = (
        InvitationModel.status.is_in(PENDING, EXPIRED, REVOKED)
        & InvitationModel.member_account_id.does_not_exist()
        & (InvitationModel.issued_at.does_not_exist() | (InvitationModel.issued_at <= _cooldown_cutoff(stamp)))
    )
    actions = _issue_actions(invitation_id, actor, inviter, stamp)
    return _update_op(org_id, actor, invitation_id, actions, condition, "invitation.reissued")


def _resend_failure(old: InvitationModel | None) -> str:
    if old is None or old.status == NO_INVITATION:
        return "not_found"
    if old.status == ACCEPTED:
        return "already_accepted"
    if old.member_account_id:
        return "already_member"
    return "resend_too_soon"


def _cooldown_left(old: InvitationModel | None, stamp: datetime) -> int:
    """Seconds until an invitation may be resent again (at least 1)."""
    if old is None or not old.issued_at:
        return 1
    ready = parse_iso(old.issued_at) + timedelta(seconds=get_settings().resend_cooldown_seconds)
    return max(1, math.ceil((ready - stamp).total_seconds()))


def _remove_op(org_id: str, actor: Actor, invitation_id: str, stamp: datetime) -> _Op:
    condition = InvitationModel.status.is_in(PENDING, EXPIRED)
    actions = [
        InvitationModel.status.set(REVOKED),
        InvitationModel.pending_shard.remove(),
        InvitationModel.revoked_at.set(stamp),
        InvitationModel.updated_at.set(stamp),
    ]
    return _update_op(org_id, actor, invitation_id, actions, condition, "invitation.removed")


def _remove_failure(old: InvitationModel | None) -> str:
    if old is None or old.status == NO_INVITATION:
        return "not_found"
    if old.status == ACCEPTED:
        return "already_accepted"
    return "already_removed"


def _bulk_by_id(
    org_id: str,
    caller: Member | None,
    invitation_ids: Sequence[str],
    make: Callable[[str], _Op],
    done: str,
    failure: Callable[[InvitationModel | None], str],
    statuses: Sequence[str],
    charges: list[abuse_limits.Charge] | None = None,
    stamp: datetime | None = None,
) -> BulkOutcome:
    results: list[IdResult] = []
    seen: set[str] = set()
    ops: list[tuple[_Op, IdResult]] = []
    for invitation_id in invitation_ids:
        if not invitation_id.startswith("inv_") or len(invitation_id) > 64:
            results.append(IdResult(invitation_id, "not_found"))
            continue
        if invitation_id in seen:
            results.append(IdResult(invitation_id, "duplicate_in_request"))
            continue
        seen.add(invitation_id)
        result = IdResult(invitation_id, done)
        results.append(result)
        ops.append((make(invitation_id), result))
    _commit_charged([op for op, _ in ops], charges or [], _caller_guard(caller))
    _refuse_if_forbidden([op for op, _ in ops])
    for op, result in ops:
        if op.forbidden:
            result.status = FORBIDDEN
        elif op.refused is not None:
            result.status, result.message = op.refused.status, op.refused.message
            result.retry_after = op.refused.retry_after
        elif op.failed:
            result.status = failure(op.old)
            if result.status == "resend_too_soon":
                result.retry_after = _cooldown_left(op.old, stamp or now())
                when = abuse_limits.in_words(result.retry_after)
                result.message = f"It was sent a moment ago; it can be sent again {when}."
    return BulkOutcome(results=results, summary=_summary(results, statuses))


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
        "resent",
        _resend_failure,
        RESEND_STATUSES,
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
        "removed",
        _remove_failure,
        REMOVE_STATUSES,
    )


def _raise_for(result: IdResult) -> None:
    """The error of a single-item call whose bulk result is not a success."""
    status = result.status
    if status == FORBIDDEN:
        raise Forbidden(members.NO_LONGER_ALLOWED)
    if status == "resend_too_soon":
        raise ResendTooSoon(result.message, retry_after=result.retry_after)
    if status == "resend_quota_exceeded":
        raise ResendQuotaExceeded(result.message, retry_after=result.retry_after)
    if status in ("not_found", "duplicate_in_request"):
        raise NotFound("No such invitation.")
    if status == "already_accepted":
        raise AlreadyAccepted()
    if status == "already_member":
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


# --- public link: preview and accept ---------------------------------------------


@dataclass(frozen=True)
class Preview:
    invitation: Invitation
    org_name: str | None
    inviter: str | None


def _live(token: str) -> tuple[invitation_links.LinkToken, InvitationModel]:
    """The invitation behind a link, if the link still admits; else the reason as an error."""
    link = invitation_links.parse(token)
    item = get_item(link.org_id, link.invitation_id) if link else None
    if link is None or item is None:
        raise NotFound("No such invitation.")
    if item.link_nonce != link.nonce:  # reissued, or superseded by joining another way
        if item.member_account_id and item.status == NO_INVITATION:
            raise AlreadyMember()
        raise InvitationRevoked("This link was replaced by a newer invitation or removed.")
    status = effective_status(item)
    if status == ACCEPTED:
        raise AlreadyAccepted()
    if status == REVOKED:
        raise InvitationRevoked()
    if status == EXPIRED:
        raise InvitationExpired()
    return link, item


def preview(token: str) -> Preview:
    """What the invitee sees before accepting (public: the link is the credential)."""
    _, item = _live(token)
    return Preview(invitation=to_invitation(item), org_name=orgs.name_of(item.org_id), inviter=item.inviter)


@dataclass(frozen=True)
class Accepted:
    org_id: str
    org_name: str | None
    account_id: str
    email: str
    role: Role
    account_created: bool
    api_key: tuple[str, str] | None  # (key id, secret) when the account was created by the API
    session_secret: str | None = None  # a console session when the account was created on the page


def accept(token: str, principal: Principal | None, request_id: str, *, new_account_gets: str = "api_key") -> Accepted:
    """Join the invited account to the org; single-use under concurrent accepts.

    The slot update is conditioned on the very issue and nonce we read, still
    pending and not yet due, so of many concurrent accepts exactly one
    transaction commits; the others re-read and see ``already_accepted``.
    A new account (no account had the invited email) gets an API key, shown
    once, or a console session (``new_account_gets="session"``): the link came
    to that mailbox. An existing account keeps its keys (the link is not a
    sign-in for it).
    """
    for _ in range(CONFLICT_RETRIES):
        link, item = _live(token)
        if principal is not None and principal.email != item.email:
            raise EmailMismatch()
        if item.member_account_id:
            raise AlreadyMember()
        stamp = now()
        tx = Tx()
        created = False
        account = accounts.get(principal.account_id) if principal else accounts.find_by_email(item.email)
        if account is None:
            account = accounts.add_account_to(tx, item.email)
            created = True
        role = Role(item.role or Role.MEMBER.value)
        member_index = len(tx)
        members.add_membership_to(tx, link.org_id, account, role, mark_slot=False)
        slot_index = len(tx)
        tx.update(
            item,
            [
                InvitationModel.status.set(ACCEPTED),
                InvitationModel.member_account_id.set(account.account_id),
                InvitationModel.accepted_at.set(stamp),
                InvitationModel.accepted_by.set(account.account_id),
                InvitationModel.updated_at.set(stamp),
                InvitationModel.pending_shard.remove(),
            ],
            condition=(InvitationModel.status == PENDING)
            & (InvitationModel.link_nonce == link.nonce)
            & (InvitationModel.issue == int(item.issue or 0))
            & (InvitationModel.expires_at > iso(stamp))
            & InvitationModel.member_account_id.does_not_exist(),
        )
        api_key = None
        session_secret = None
        if created and new_account_gets == "session":
            session_secret = sessions.add_session_to(tx, account.account_id, account.email)
        elif created:
            key_item, secret = keys.new_api_key_item(account.account_id, "invitation")
            tx.put(key_item, condition=type(key_item).token_hash.does_not_exist())
            api_key = (key_item.token_id, secret)
        actor = Actor(actor=f"account:{account.account_id}", request_id=request_id, account_id=account.account_id)
        details = {"email": item.email, "role": role.value, "account_id": account.account_id}
        audit.record(tx, link.org_id, actor, "invitation.accepted", item.invitation_id, details)
        audit.record(tx, link.org_id, actor, "member.added", account.account_id, {**details, "via": "invitation"})
        try:
            tx.commit()
        except TransactionCancelled as exc:
            failed = exc.failed_indexes()
            if member_index + 1 in failed and slot_index not in failed:
                raise NotFound("No such organization.") from exc
            # The slot moved on (another accept, a reissue, a direct add) or the account was
            # created meanwhile: read again; the fresh state names the outcome.
            continue
        return Accepted(
            org_id=link.org_id,
            org_name=orgs.name_of(link.org_id),
            account_id=account.account_id,
            email=item.email,
            role=role,
            account_created=created,
            api_key=api_key,
            session_secret=session_secret,
        )
    raise Conflict()


# --- expiry ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryRun:
    read: int
    expired: int


def expire_due(request_id: str) -> ExpiryRun:
    """Mark due pending invitations expired, reading only due items (sparse GSI, one query per shard).

    Each update is conditioned on the item still being the pending issue we
    read, so a reissue in between wins, and a second run changes nothing.
    """
    actor = Actor.system("expire_invitations", request_id)
    stamp = now()
    at = iso(stamp)
    read = 0
    ops: list[_Op] = []
    for shard in range(PENDING_SHARDS):
        for item in InvitationModel.pending_by_expiry.query(f"p{shard}", InvitationModel.expires_at <= at):
            read += 1
            ops.append(_expire_op(item, actor, stamp))
    _commit_ops(ops)
    return ExpiryRun(read=read, expired=sum(1 for op in ops if op.applied))


def _expire_op(item: InvitationModel, actor: Actor, stamp: datetime) -> _Op:
    condition = (
        (InvitationModel.status == PENDING)
        & (InvitationModel.link_nonce == (item.link_nonce or ""))
        & (InvitationModel.expires_at <= iso(stamp))
    )
    actions = [
        InvitationModel.status.set(EXPIRED),
        InvitationModel.pending_shard.remove(),
        InvitationModel.updated_at.set(stamp),
    ]
    target = InvitationModel(item.org_id, item.invitation_id)

    def add(tx: Tx) -> None:
        tx.update(target, actions, condition=condition)
        audit.record(tx, item.org_id, actor, "invitation.expired", item.invitation_id, {"email": item.email})

    return _Op(key=(item.org_id, item.invitation_id), add=add)
