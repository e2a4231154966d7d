"""Bulk onboarding (managed accounts): add many users, seat them while seats last, optionally issue tokens.

Each email is its own transaction: member put + org counters (+ seat under
``seats_used < seat_capacity``) + roster slot + audit (+ token put and its
audit), so one bad item never fails the others and a token exists only for
a member who holds the seat it was stamped with. When the seats run out the
remaining users are added without a seat (``seat_limit_reached``), in input
order. Token secrets appear only in the returned results, so once an item
has committed the call never fails as a whole: an item that keeps losing
races answers ``conflict`` (retry it), and if the caller stops being an
admin midway the remaining items answer ``forbidden``.

Tokens are issued awaiting handover: they do not verify until the whole
answer is ready, when one transaction per 100 tokens makes them live
(``tokens.hand_over``). A call that dies in between (after some items
committed) leaves no live token whose secret nobody got; running the same
onboarding again revokes such stranded tokens and answers a new one for that
member (status ``already_member``, with ``token`` and ``seat``).

Only emails on the org's verified domains are onboarded directly. Every
other email is invited instead (``invitations.invite``, in one bulk call
after the direct ones): ``invited`` or ``already_invited``, whether or not
an account has it, and without an account id, so no item tells whether an
account exists (invariant 9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.emails import InvalidEmail, normalize_email
from ..domain.errors import AlreadyMember, Conflict, Forbidden, NotFound, SeatLimitReached
from ..domain.models import Actor, Member
from ..domain.outcomes import Outcome
from ..domain.roles import Permission, Role
from ..secrets import hash_secret
from ..storage.base import Tx, retry_races
from . import accounts, audit, domains, invitations, members, tokens


@dataclass(frozen=True)
class TokenRequest:
    name: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Onboarded:
    email: str
    status: Outcome
    account_id: str | None = None
    seat: bool = False
    token: tokens.AccessToken | None = None
    secret: str | None = None
    retry_after: int | None = None  # invitation_quota_exceeded: seconds until the daily quota starts again


def _join(
    org_id: str,
    actor: Actor,
    caller: Member | None,
    email: str,
    role: Role,
    seat: bool,
    token: TokenRequest | None,
    expires_at: datetime,
) -> tuple[accounts.Account, tokens.AccessToken | None, str | None]:
    """One email's transaction, the account's creation included when it has none.

    AlreadyMember / SeatLimitReached (``add_membership_to``) when refused, and
    then no account was created either.
    """
    tx = Tx()
    account = accounts.found_or_added_to(tx, email)
    item = members.add_membership_to(tx, org_id, account, role, seat=seat)
    audit.record(tx, org_id, actor, "member.added", account.account_id, {"email": account.email, "role": role.value})
    issued: tuple[tokens.AccessToken | None, str | None] = (None, None)
    if seat:
        audit.record(tx, org_id, actor, "seat.assigned", account.account_id, {"email": account.email, "notify": True})
        if token is not None:
            token_item, secret = tokens.new_token_item(
                item, token.name, expires_at, actor.actor, awaiting_handover=True
            )
            tokens.add_token_to(tx, token_item, actor)
            issued = (tokens.to_token(token_item), secret)
    members.caller_still(tx, caller, Permission.MANAGE_TOKENS if issued[0] else Permission.MANAGE_MEMBERS)
    tx.commit()
    return (account, *issued)


def _onboard_one(
    org_id: str,
    actor: Actor,
    caller: Member | None,
    email: str,
    role: Role,
    seat: bool,
    token: TokenRequest | None,
    expires_at: datetime,
) -> Onboarded:
    try:
        account, issued, secret = retry_races(
            lambda: _join(org_id, actor, caller, email, role, seat, token, expires_at)
        )
    except AlreadyMember:
        member_of = accounts.find_by_email(email)  # a member: the account exists
        assert member_of is not None
        return _already_member(org_id, actor, caller, member_of, token, expires_at)
    except SeatLimitReached:  # the seats ran out: join without one
        return _onboard_one(org_id, actor, caller, email, role, False, token, expires_at)
    except Conflict:
        found = accounts.find_by_email(email)
        return Onboarded(email, Outcome.CONFLICT, found.account_id if found else None)
    status = Outcome.ONBOARDED if seat else Outcome.SEAT_LIMIT_REACHED
    return Onboarded(account.email, status, account.account_id, seat, issued, secret)


def _already_member(
    org_id: str,
    actor: Actor,
    caller: Member | None,
    account: accounts.Account,
    token: TokenRequest | None,
    expires_at: datetime,
) -> Onboarded:
    """A member already; if an interrupted onboarding stranded their token, revoke it and answer a new one."""
    replaced = None
    if token is not None:
        replaced = tokens.replace_stranded(org_id, actor, account.account_id, token.name, expires_at, caller)
    if replaced is None:
        return Onboarded(account.email, Outcome.ALREADY_MEMBER, account.account_id)
    issued, secret = replaced
    return Onboarded(account.email, Outcome.ALREADY_MEMBER, account.account_id, True, issued, secret)


def onboard(
    org_id: str, actor: Actor, emails: list[str], role: Role = Role.MEMBER, token: TokenRequest | None = None
) -> list[Onboarded]:
    """Onboard each email in order; see the module docstring for the per-item outcomes."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_MEMBERS)
    members.require_granted(actor, caller, Permission.MANAGE_SEATS)
    members.refuse_admin_change(actor, role)
    if token is not None:
        members.require_granted(actor, caller, Permission.MANAGE_TOKENS)
    # Validate the lifetime once, before any change (400 changes nothing).
    expires_at = tokens.expiry(token.expires_at if token else None)
    results: list[Onboarded | None] = []
    to_invite: list[tuple[int, str]] = []
    verified = domains.DomainCheck(org_id)
    seen: set[str] = set()
    seats_left = True
    stopped = False
    for raw in emails:
        try:
            email = normalize_email(raw)
        except InvalidEmail:
            results.append(Onboarded(email=raw, status=Outcome.INVALID_EMAIL))
            continue
        if email in seen:
            results.append(Onboarded(email=email, status=Outcome.DUPLICATE_IN_REQUEST))
            continue
        seen.add(email)
        if stopped:
            results.append(Onboarded(email=email, status=Outcome.FORBIDDEN))
            continue
        if not verified(email):
            to_invite.append((len(results), email))
            results.append(None)
            continue
        try:
            result = _onboard_one(org_id, actor, caller, email, role, seats_left, token, expires_at)
        except Forbidden:
            stopped = True
            results.append(Onboarded(email=email, status=Outcome.FORBIDDEN))
            continue
        if result.status == Outcome.SEAT_LIMIT_REACHED:
            seats_left = False
        results.append(result)
    _invite(org_id, actor, role, to_invite, results, stopped)
    answered = [r for r in results if r is not None]
    tokens.hand_over([hash_secret(r.secret) for r in answered if r.secret])
    return answered


def _invite(
    org_id: str,
    actor: Actor,
    role: Role,
    to_invite: list[tuple[int, str]],
    results: list[Onboarded | None],
    stopped: bool,
) -> None:
    """Invite the emails off the org's verified domains, filling their places in ``results``."""
    if not to_invite:
        return
    if stopped:
        for index, email in to_invite:
            results[index] = Onboarded(email=email, status=Outcome.FORBIDDEN)
        return
    try:
        outcome = invitations.invite(org_id, actor, [invitations.InviteItem(e, role.value) for _, e in to_invite], role)
    except (Forbidden, NotFound):  # the caller stopped being an admin (or a member) during the call
        for index, email in to_invite:
            results[index] = Onboarded(email=email, status=Outcome.FORBIDDEN)
        return
    except Conflict:
        for index, email in to_invite:
            results[index] = Onboarded(email=email, status=Outcome.CONFLICT)
        return
    for (index, email), invited in zip(to_invite, outcome.results, strict=True):
        if invited.status == Outcome.ALREADY_MEMBER:
            results[index] = Onboarded(email=email, status=Outcome.ALREADY_MEMBER, account_id=invited.account_id)
        elif invited.status in (Outcome.INVITATION_QUOTA_EXCEEDED, Outcome.FORBIDDEN):
            results[index] = Onboarded(email=email, status=invited.status, retry_after=invited.retry_after)
        else:
            status = Outcome.INVITED if invited.status == Outcome.INVITED else Outcome.ALREADY_INVITED
            results[index] = Onboarded(email=email, status=status)
