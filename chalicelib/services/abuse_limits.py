"""Abuse limits: daily quotas on invitations and resends, per org and per inviting account.

A quota is one atomic counter per (scope, kind, UTC day) in the Quotas table
(``storage.quotas``). A bulk call charges it inside a transaction that writes
invitations: ``ADD used n`` conditioned on ``used <= limit - n``, so two
concurrent calls can never together pass the limit. ``n`` is what the call
has still to write, charged once in the first transaction that commits an
invitation; the other chunks of the call (in parallel) write under that
charge, and what did not get written (already invited, cooldown, a lost
race) is given back at the end in one transaction. If the process dies in
between, the count stays too high for the rest of the day, never too low.
An org younger than ``new_org_days`` gets the smaller ``*_new_org_*`` limit.
The settings are in ``chalicelib/config.py``; docs/api.md "Abuse limits".
Failed client authentications at the token endpoint: ``client_auth_limits``.
"""

from __future__ import annotations

import logging
import math
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ..clock import now
from ..config import get_settings
from ..domain.errors import Conflict
from ..domain.models import Actor
from ..domain.outcomes import Outcome
from ..storage import orgs as org_rows
from ..storage import quotas
from ..storage.base import CancelReason, Tx, TxItem
from ..storage.bulk import CONFLICT_RETRIES, OPS_PER_TX, BulkOp, ExtraRefused, Guard, commit_chunk, commit_ops
from ..storage.quotas import quota_id

log = logging.getLogger(__name__)

INVITATIONS, RESENDS = "invitations", "resends"
QUOTA_TTL_DAYS = 2
T = TypeVar("T")


@dataclass(frozen=True)
class Charge:
    """One quota a call must fit in: its counter, its limit, and how a refusal is said."""

    quota_id: str
    limit: int
    status: Outcome  # per-item status and error code when refused
    message: str
    retry_after: int  # seconds until the quota's day ends


def day_of(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%d")


def seconds_to_next_day(stamp: datetime) -> int:
    """Seconds until the next UTC midnight (at least 1): when a daily quota starts again."""
    midnight = (stamp + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - stamp).total_seconds()))


def in_words(seconds: int) -> str:
    """ "in 5 hours", "in 10 minutes", "in 30 seconds" (rounded up)."""
    if seconds >= 3600:
        n, unit = math.ceil(seconds / 3600), "hour"
    elif seconds >= 60:
        n, unit = math.ceil(seconds / 60), "minute"
    else:
        n, unit = max(seconds, 1), "second"
    return f"in {n} {unit}{'s' if n != 1 else ''}"


def _is_new(org_id: str, stamp: datetime) -> bool:
    days = get_settings().new_org_days
    return days > 0 and org_rows.created_at(org_id) > stamp - timedelta(days=days)


def charges(org_id: str, actor: Actor, kind: str, stamp: datetime | None = None) -> list[Charge]:
    """The quotas an invitation (``INVITATIONS``) or resend (``RESENDS``) call of ``actor`` must fit in."""
    settings = get_settings()
    stamp = stamp or now()
    day, wait = day_of(stamp), seconds_to_next_day(stamp)
    if kind == INVITATIONS:
        org_limit = settings.invitations_per_new_org_day if _is_new(org_id, stamp) else settings.invitations_per_org_day
        account_limit, noun = settings.invitations_per_account_day, "invitation"
        status = Outcome.INVITATION_QUOTA_EXCEEDED
    else:
        org_limit = settings.resends_per_new_org_day if _is_new(org_id, stamp) else settings.resends_per_org_day
        account_limit, noun = settings.resends_per_account_day, "resend"
        status = Outcome.RESEND_QUOTA_EXCEEDED
    found = [
        Charge(
            quota_id("org", org_id, kind, day),
            org_limit,
            status,
            f"The organization's daily {noun} limit ({org_limit}) is reached; try again {in_words(wait)}.",
            wait,
        )
    ]
    if actor.account_id:
        found.append(
            Charge(
                quota_id("account", actor.account_id, kind, day),
                account_limit,
                status,
                f"Your daily {noun} limit ({account_limit}, all organizations) is reached; try again {in_words(wait)}.",
                wait,
            )
        )
    return found


def tightest(found: Sequence[Charge]) -> Charge:
    return min(found, key=lambda c: c.limit)


def add_to(tx: Tx, charge: Charge, n: int) -> TxItem:
    """Count ``n`` more in the transaction, refused (condition) if that passes the limit (needs ``n <= limit``)."""
    expires = int(_time.time()) + QUOTA_TTL_DAYS * 86400 + charge.retry_after
    return quotas.charge_in(tx, charge.quota_id, n, charge.limit, expires, return_old=True)


def room(found: Sequence[Charge], reasons: Sequence[CancelReason | None], n: int) -> tuple[int, Charge]:
    """After a refusal (``reasons``: one per charge of ``found``): how many still fit, and the quota that is short."""
    best, short = n, None
    for charge, reason in zip(found, reasons, strict=False):
        if reason is None or reason.code != "ConditionalCheckFailed":
            continue
        used = quotas.used_before(reason.item)
        if used is None:  # an engine that returned no old item with the refusal
            used = quotas.used(charge.quota_id)
        left = max(0, charge.limit - used)
        if short is None or left < best:
            best, short = min(best, left), charge
    return best, short or found[0]


def give_back(found: Sequence[Charge], n: int) -> None:
    """Return ``n`` charged but unused (one transaction); a failure only leaves the count too high."""
    if n <= 0 or not found:
        return
    tx = Tx()
    for charge in found:
        quotas.give_back_in(tx, charge.quota_id, n)
    try:
        tx.commit()
    except Exception:  # conservative: an unreturned charge refuses more, never fewer
        log.warning("could not give back unused quota", extra={"unused": n}, exc_info=True)


@dataclass
class ChargedOp(BulkOp[T]):
    """A bulk op counted against quotas: ``refused`` is the quota it did not fit in (not attempted)."""

    refused: Charge | None = None


def _charging(found: list[Charge], n: int) -> Callable[[Tx], list[TxItem]]:
    def add(tx: Tx) -> list[TxItem]:
        return [add_to(tx, charge, n) for charge in found]

    return add


def commit_within(
    ops: list[ChargedOp[Any]], found: list[Charge], guard: Guard | None = None, second_pass: bool = False
) -> None:
    """Commit ops within daily quotas: those over a quota are marked ``refused`` and not attempted.

    The charge for every op still to write rides on the first chunk that commits
    anything (chunks whose ops all fail their own conditions are charged nothing);
    the later chunks run in parallel under it, and the unused part is given back.
    A refused charge says how much room is left (the old counter): the ops beyond
    it are refused and the chunk is tried again. Ops refused while others then
    failed their own conditions (and so used no room) get one more pass.
    """
    if not found:
        commit_ops(ops, guard)
        return
    allowed = list(ops)

    def refuse_from(keep: int, charge: Charge) -> None:
        for op in allowed[keep:]:
            op.refused = charge
        del allowed[keep:]

    smallest = tightest(found)
    refuse_from(max(0, smallest.limit), smallest)
    start, charged_from, charged = 0, 0, 0
    refusals = 0
    while start < len(allowed) and not charged:
        chunk = allowed[start : start + OPS_PER_TX]
        n = len(allowed) - start
        try:
            if commit_chunk(chunk, _charging(found, n), guard):
                charged_from, charged = start, n
            start += len(chunk)
        except ExtraRefused as exc:
            refusals += 1
            if refusals > CONFLICT_RETRIES * 2:
                raise Conflict() from exc
            left, short = room(found, exc.reasons, n)
            refuse_from(start + left, short)
    unused = 0
    try:
        commit_ops(allowed[start:], guard)
    finally:
        if charged:
            unused = charged - sum(1 for op in allowed[charged_from:] if op.applied)
            give_back(found, unused)
    refused = [op for op in ops if op.refused is not None]
    if refused and not second_pass and any(op.failed for op in allowed):
        for op in refused:
            op.refused = None
        commit_within(refused, found, guard, second_pass=True)
