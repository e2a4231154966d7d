"""Credentials die with their maker's power (invariant 10): an admin removed or demoted ends the
org credentials they created.

The org credentials an admin makes are SCIM tokens (``osc_``) and service
accounts (``sa_``, with their ``osa_`` access tokens). Access tokens an admin
issues for a member are that member's own and stand on the member's seat
(``token_cascade``); API keys and sessions are personal.

Two layers, the same pattern as seats and access tokens (invariant 4):

1. Authentication refuses at once: a SCIM token and a service account stamp
   their maker's account and membership (``joined_at``) at creation. Every
   SCIM request reads the maker's member item (consistent) and answers 401
   unless that same membership still may manage SCIM; every request with a
   service account's access token reads it in the same consistent
   BatchGetItem as the token and the account, and answers 401 unless that
   membership still may manage service accounts, and the token grant
   conditions its transaction on it (``unauthorized_client``). So the
   credential is dead from the moment the removing or demoting call returns,
   whichever path made it (REST, console, SCIM DELETE or group change), and
   whatever races with it.
2. This Members-stream step marks the tokens revoked and the service
   accounts disabled (reason ``maker_removed`` / ``maker_demoted``; a
   disabled account's tokens stay dead, its generation is raised), one
   transaction per credential with its audit record (actor
   ``system:credential_cascade``, ``scim_token.revoked`` /
   ``service_account.disabled``), then emails the remaining admins which
   credentials ended and why.

Why the stream and not the demoting transaction itself: every change of a
role or membership (four services, SCIM included) writes the member item,
and the stream sees them all, so no path can forget the cascade; a failed
record is retried (invariant 6), so it cannot be lost. Doing it in the
demoting transaction would need a read of the maker's tokens first, and a
token created between that read and the commit would survive (nothing in the
transaction conditions on the set of tokens); with the check at
authentication such a token is refused anyway, and the stream, which runs
after the demotion committed, flags it. Replays change nothing: revoking is
conditioned on the token being unrevoked, disabling on the account not being
disabled by the cascade already, and each email is claimed first
(``notice_pending`` removed under a condition), released again when sending
fails retryably (the record is then retried).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import quote

from ..clock import now
from ..config import get_settings
from ..domain.models import Actor
from ..domain.roles import Permission, Role, allows
from ..domain.service_accounts import StoredServiceAccount, maker_of
from ..domain.tokens import StoredToken
from ..mail import MailError, get_mailer
from ..mail.credential_templates import credentials_revoked
from ..storage import members as member_rows
from ..storage import service_accounts as account_rows
from ..storage import tokens as token_rows
from ..storage.base import AlreadyApplied, Tx
from ..storage.tokens import scim_token_owner
from . import accounts, audit, orgs, service_accounts
from .member_records import MemberChange

log = logging.getLogger(__name__)
C = TypeVar("C", StoredToken, StoredServiceAccount)

MAKER_REMOVED = service_accounts.MAKER_REMOVED
MAKER_DEMOTED = service_accounts.MAKER_DEMOTED
POWER = Permission.MANAGE_SCIM
SERVICE_ACCOUNT_POWER = service_accounts.POWER


@dataclass(frozen=True)
class Ended:
    scim_tokens_revoked: int = 0
    service_accounts_disabled: int = 0


def _may(role: str | None, power: Permission) -> bool:
    try:
        return role is not None and allows(Role(role), power)
    except ValueError:
        return False


def lost_power(change: MemberChange, power: Permission = POWER) -> str | None:
    """The reason when this change took ``power`` (by default, to make SCIM tokens) away from a member."""
    if change.old is None or not _may(change.old.role, power):
        return None
    if change.event_name == "REMOVE":
        return MAKER_REMOVED
    if change.event_name == "MODIFY" and change.new is not None and not _may(change.new.role, power):
        return MAKER_DEMOTED
    return None


def _made_by(token: StoredToken, account_id: str) -> bool:
    # ``created_by`` covers tokens made before they carried the maker's account id.
    return token.account_id == account_id or (token.account_id is None and token.created_by == f"account:{account_id}")


def _ended(token: StoredToken | StoredServiceAccount, change: MemberChange) -> bool:
    """Whether the token (or service account) was made in the membership whose power this change ended.

    Tokens of a later membership (joined again since) are left alone. Within
    one membership there is no stamp of when the role was granted, so the
    cascade fails closed: a token made after a re-promotion that happened
    before the demotion's record was processed (or replayed) is revoked too,
    and the admins are told.
    """
    assert change.old is not None
    return token.member_joined_at is None or token.member_joined_at <= change.old.joined_at


def _end(
    change: MemberChange,
    request_id: str,
    add: Callable[[Tx], Any],
    action: str,
    target: str,
    details: dict[str, Any],
) -> bool:
    """One credential's ending (``add`` puts its conditioned write) with its audit record, in one
    transaction; False when the cascade (or an admin) already ended it."""
    tx = Tx()
    add(tx)
    actor = Actor.system("credential_cascade", request_id)
    audit.record(tx, change.org_id, actor, action, target, {**details, "maker": change.account_id})
    try:
        tx.commit()
    except AlreadyApplied:
        return False  # ended meanwhile (by an admin or an earlier delivery), or deleted
    return True


def _revoke(token: StoredToken, change: MemberChange, reason: str, request_id: str) -> StoredToken | None:
    """Mark one SCIM token revoked, its notice pending; None when it already was."""
    ended = _end(
        change,
        request_id,
        lambda tx: token_rows.revoke_in(tx, token.token_hash, reason, now(), announce=True),
        "scim_token.revoked",
        token.token_id,
        {"reason": reason, "name": token.name},
    )
    return replace(token, notice_pending=reason) if ended else None


def _disable(
    account: StoredServiceAccount, change: MemberChange, reason: str, request_id: str
) -> StoredServiceAccount | None:
    """Mark one service account disabled (``account_rows.disable_in``), its notice pending; None when
    the cascade already did."""
    ended = _end(
        change,
        request_id,
        lambda tx: account_rows.disable_in(tx, account.sa_id, reason, now()),
        "service_account.disabled",
        account.sa_id,
        {"disabled": True, "reason": reason, "name": account.name},
    )
    return replace(account, notice_pending=reason) if ended else None


def _end_each(made: list[C], live: Callable[[C], bool], end: Callable[[C], C | None]) -> tuple[list[C], list[C]]:
    """End each of the maker's credentials still live: (all of them as they now stand, the ones ended here)."""
    standing: list[C] = []
    ended: list[C] = []
    for credential in made:
        done = end(credential) if live(credential) else None
        if done is not None:
            ended.append(done)
        standing.append(done or credential)
    return standing, ended


def settings_url(org_id: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/orgs/{quote(org_id, safe='')}/settings"


def _notify(
    change: MemberChange, reason: str, pending: list[StoredToken], pending_accounts: list[StoredServiceAccount]
) -> int:
    """Email the org's admins (the maker aside) about credentials ended and not announced yet; return emails sent."""
    claimed = [t for t in pending if token_rows.claim_notice(t.token_hash)]
    claimed_accounts = [a for a in pending_accounts if account_rows.claim_notice(a.sa_id)]
    if not claimed and not claimed_accounts:
        return 0
    admins = [
        email
        for account_id, email in member_rows.admin_emails(change.org_id, Role.ACCOUNT_ADMIN.value)
        if account_id != change.account_id
    ]
    assert change.old is not None
    account = accounts.get(change.account_id)
    maker = account.email if account else change.old.email
    listed = sorted((t.token_id, t.name or "") for t in claimed)
    listed_accounts = sorted((a.sa_id, a.name) for a in claimed_accounts)
    org_name = orgs.name_of(change.org_id) or "your organization"
    sent = 0
    for email in admins:
        message = credentials_revoked(
            email, org_name, maker, reason, listed, settings_url(change.org_id), service_accounts=listed_accounts
        )
        try:
            get_mailer().send(message)
        except MailError as exc:
            if exc.retryable:
                for token in claimed:
                    token_rows.release_notice(token.token_hash, token.notice_pending or reason)
                for claimed_account in claimed_accounts:
                    account_rows.release_notice(claimed_account.sa_id, claimed_account.notice_pending or reason)
                raise
            log.warning("credentials-revoked email not sent", extra={"org_id": change.org_id, "reason": exc.reason})
            continue
        sent += 1
    return sent


def handle(change: MemberChange, request_id: str) -> Ended:
    """End the SCIM tokens and service accounts of an admin this change removed or demoted.

    One query of the org's SCIM tokens and one of its service accounts, then
    one transaction per credential; the notices still pending (this
    delivery's, or an earlier one's whose email failed) are claimed and mailed.
    """
    reason = lost_power(change)
    account_reason = lost_power(change, SERVICE_ACCOUNT_POWER)
    if reason is None and account_reason is None:
        return Ended()
    made: list[StoredToken] = []
    revoked: list[StoredToken] = []
    if reason is not None:
        scim_reason = reason
        made, revoked = _end_each(
            [t for t in token_rows.owned_by(scim_token_owner(change.org_id)) if _made_by(t, change.account_id)],
            lambda t: t.revoked_at is None and _ended(t, change),
            lambda t: _revoke(t, change, scim_reason, request_id),
        )
    made_accounts: list[StoredServiceAccount] = []
    disabled: list[StoredServiceAccount] = []
    if account_reason is not None:
        sa_reason = account_reason
        made_accounts, disabled = _end_each(
            [a for a in account_rows.of_org(change.org_id) if maker_of(a) == change.account_id],
            lambda a: a.disabled_reason is None and _ended(a, change),
            lambda a: _disable(a, change, sa_reason, request_id),
        )
    _notify(
        change,
        reason or account_reason or MAKER_REMOVED,
        [t for t in made if t.notice_pending],
        [a for a in made_accounts if a.notice_pending],
    )
    if revoked or disabled:
        log.info(
            "Credentials of a removed or demoted admin ended",
            extra={
                "org_id": change.org_id,
                "account_id": change.account_id,
                "scim_tokens": len(revoked),
                "service_accounts": len(disabled),
                "reason": reason or account_reason,
            },
        )
    return Ended(scim_tokens_revoked=len(revoked), service_accounts_disabled=len(disabled))
