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
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from pynamodb.exceptions import UpdateError

from ..clock import now
from ..config import get_settings
from ..domain.models import Actor
from ..domain.roles import Permission, Role, allows
from ..mail import MailError, get_mailer
from ..mail.credential_templates import credentials_revoked
from ..storage.base import AlreadyApplied, Tx, is_condition_failure
from ..storage.members import MemberModel
from ..storage.service_accounts import ACCOUNT, ServiceAccountModel
from ..storage.tokens import TokenModel, scim_token_owner
from . import accounts, audit, orgs, service_accounts
from .member_records import MemberChange

log = logging.getLogger(__name__)

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


def _made_by(token: TokenModel, account_id: str) -> bool:
    # ``created_by`` covers tokens made before they carried the maker's account id.
    return token.account_id == account_id or (token.account_id is None and token.created_by == f"account:{account_id}")


def _ended(token: TokenModel | ServiceAccountModel, change: MemberChange) -> bool:
    """Whether the token (or service account) was made in the membership whose power this change ended.

    Tokens of a later membership (joined again since) are left alone. Within
    one membership there is no stamp of when the role was granted, so the
    cascade fails closed: a token made after a re-promotion that happened
    before the demotion's record was processed (or replayed) is revoked too,
    and the admins are told.
    """
    assert change.old is not None
    return token.member_joined_at is None or token.member_joined_at <= change.old.joined_at


def _scim_tokens(org_id: str) -> Iterable[TokenModel]:
    return TokenModel.by_owner.query(scim_token_owner(org_id))


def _revoke(token: TokenModel, change: MemberChange, reason: str, request_id: str) -> bool:
    """Mark one token revoked with its audit record; False when it already was."""
    actor = Actor.system("credential_cascade", request_id)
    tx = Tx()
    tx.update(
        token,
        [
            TokenModel.revoked_at.set(now()),
            TokenModel.revoked_reason.set(reason),
            TokenModel.notice_pending.set(reason),
        ],
        condition=TokenModel.token_hash.exists() & TokenModel.revoked_at.does_not_exist(),
        on_fail=AlreadyApplied,
    )
    audit.record(
        tx,
        change.org_id,
        actor,
        "scim_token.revoked",
        token.token_id,
        {"reason": reason, "maker": change.account_id, "name": token.name},
    )
    try:
        tx.commit()
    except AlreadyApplied:
        return False  # revoked meanwhile (by an admin or an earlier delivery)
    token.notice_pending = reason
    return True


def _disable(account: ServiceAccountModel, change: MemberChange, reason: str, request_id: str) -> bool:
    """Mark one service account disabled with its audit record; False when the cascade already did.

    Its generation is raised, as when an admin disables it: no token granted so
    far works again, also if an admin enables the account later.
    """
    actor = Actor.system("credential_cascade", request_id)
    tx = Tx()
    tx.update(
        account,
        [
            ServiceAccountModel.disabled.set(True),
            ServiceAccountModel.disabled_reason.set(reason),
            ServiceAccountModel.notice_pending.set(reason),
            ServiceAccountModel.generation.add(1),
            ServiceAccountModel.version.add(1),  # an admin's change read before this one is a lost race
            ServiceAccountModel.updated_at.set(now()),
        ],
        condition=ServiceAccountModel.org_id.exists() & ServiceAccountModel.disabled_reason.does_not_exist(),
        on_fail=AlreadyApplied,
    )
    audit.record(
        tx,
        change.org_id,
        actor,
        "service_account.disabled",
        account.sa_id,
        {"disabled": True, "reason": reason, "maker": change.account_id, "name": account.name or ""},
    )
    try:
        tx.commit()
    except AlreadyApplied:
        return False  # disabled by an earlier delivery, or deleted meanwhile
    account.notice_pending = reason
    return True


def _claim_account(account: ServiceAccountModel, release: bool = False) -> bool:
    """``_claim`` for a service account's notice."""
    item = ServiceAccountModel(account.sa_id, ACCOUNT)
    if release:
        item.update(actions=[ServiceAccountModel.notice_pending.set(account.notice_pending)])
        return True
    try:
        item.update(
            actions=[ServiceAccountModel.notice_pending.remove()],
            condition=ServiceAccountModel.notice_pending.exists(),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def _claim(token: TokenModel, release: bool = False) -> bool:
    """Take (or give back) the right to announce one revocation; True when taken."""
    if release:
        TokenModel(token.token_hash).update(actions=[TokenModel.notice_pending.set(token.notice_pending)])
        return True
    try:
        TokenModel(token.token_hash).update(
            actions=[TokenModel.notice_pending.remove()], condition=TokenModel.notice_pending.exists()
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def settings_url(org_id: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/orgs/{quote(org_id, safe='')}/settings"


def _notify(
    change: MemberChange, reason: str, pending: list[TokenModel], pending_accounts: list[ServiceAccountModel]
) -> int:
    """Email the org's admins (the maker aside) about credentials ended and not announced yet; return emails sent."""
    claimed = [t for t in pending if _claim(t)]
    claimed_accounts = [a for a in pending_accounts if _claim_account(a)]
    if not claimed and not claimed_accounts:
        return 0
    admins = [
        m.email
        for m in MemberModel.query(change.org_id, filter_condition=MemberModel.role == Role.ACCOUNT_ADMIN.value)
        if m.account_id != change.account_id
    ]
    assert change.old is not None
    account = accounts.get(change.account_id)
    maker = account.email if account else change.old.email
    listed = sorted((t.token_id, t.name or "") for t in claimed)
    listed_accounts = sorted((a.sa_id, a.name or "") for a in claimed_accounts)
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
                    _claim(token, release=True)
                for claimed_account in claimed_accounts:
                    _claim_account(claimed_account, release=True)
                raise
            log.warning("credentials-revoked email not sent", extra={"org_id": change.org_id, "reason": exc.reason})
            continue
        sent += 1
    return sent


def _service_accounts(org_id: str) -> Iterable[ServiceAccountModel]:
    """The org's service accounts, as ``service_accounts.list_accounts`` finds them."""
    return ServiceAccountModel.by_org.query(org_id)


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
    made: list[TokenModel] = []
    revoked: list[TokenModel] = []
    if reason is not None:
        made = [t for t in _scim_tokens(change.org_id) if _made_by(t, change.account_id)]
        revoked = [
            t for t in made if t.revoked_at is None and _ended(t, change) and _revoke(t, change, reason, request_id)
        ]
    made_accounts: list[ServiceAccountModel] = []
    disabled: list[ServiceAccountModel] = []
    if account_reason is not None:
        made_accounts = [
            a for a in _service_accounts(change.org_id) if service_accounts.maker_of(a) == change.account_id
        ]
        disabled = [
            a
            for a in made_accounts
            if a.disabled_reason is None and _ended(a, change) and _disable(a, change, account_reason, request_id)
        ]
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
