"""Credentials die with their maker's power (invariant 10): an admin removed or demoted ends the
org credentials they created.

The org credentials an admin makes are SCIM tokens (``osc_``). Access tokens
an admin issues for a member are that member's own and stand on the member's
seat (``token_cascade``); API keys and sessions are personal.

Two layers, the same pattern as seats and access tokens (invariant 4):

1. Authentication refuses at once: a SCIM token stamps its maker's account
   and membership (``joined_at``) at creation, and every SCIM request reads
   the maker's member item (consistent) and answers 401 unless that same
   membership still may manage SCIM. So the token is dead from the moment
   the removing or demoting call returns, whichever path made it (REST,
   console, SCIM DELETE or group change), and whatever races with it.
2. This Members-stream step marks the tokens revoked (reason
   ``maker_removed`` / ``maker_demoted``), one transaction per token with its
   audit record (actor ``system:credential_cascade``), then emails the
   remaining admins which tokens ended and why.

Why the stream and not the demoting transaction itself: every change of a
role or membership (four services, SCIM included) writes the member item,
and the stream sees them all, so no path can forget the cascade; a failed
record is retried (invariant 6), so it cannot be lost. Doing it in the
demoting transaction would need a read of the maker's tokens first, and a
token created between that read and the commit would survive (nothing in the
transaction conditions on the set of tokens); with the check at
authentication such a token is refused anyway, and the stream, which runs
after the demotion committed, flags it. Replays change nothing: revoking is
conditioned on the token being unrevoked, and each email is claimed first
(``notice_pending`` removed under a condition), released again when sending
fails retryably (the record is then retried).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
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
from ..storage.tokens import TokenModel, scim_token_owner
from . import accounts, audit, orgs
from .member_records import MemberChange

log = logging.getLogger(__name__)

MAKER_REMOVED = "maker_removed"
MAKER_DEMOTED = "maker_demoted"
POWER = Permission.MANAGE_SCIM


def _may(role: str | None) -> bool:
    try:
        return role is not None and allows(Role(role), POWER)
    except ValueError:
        return False


def lost_power(change: MemberChange) -> str | None:
    """The reason when this change took the power to make SCIM tokens away from a member."""
    if change.old is None or not _may(change.old.role):
        return None
    if change.event_name == "REMOVE":
        return MAKER_REMOVED
    if change.event_name == "MODIFY" and change.new is not None and not _may(change.new.role):
        return MAKER_DEMOTED
    return None


def _made_by(token: TokenModel, account_id: str) -> bool:
    # ``created_by`` covers tokens made before they carried the maker's account id.
    return token.account_id == account_id or (token.account_id is None and token.created_by == f"account:{account_id}")


def _ended(token: TokenModel, change: MemberChange) -> bool:
    """Whether the token was made in the membership whose power this change ended.

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


def _notify(change: MemberChange, reason: str, pending: list[TokenModel]) -> int:
    """Email the org's admins (the maker aside) about revocations not announced yet; return emails sent."""
    claimed = [t for t in pending if _claim(t)]
    if not claimed:
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
    org_name = orgs.name_of(change.org_id) or "your organization"
    sent = 0
    for email in admins:
        message = credentials_revoked(email, org_name, maker, reason, listed, settings_url(change.org_id))
        try:
            get_mailer().send(message)
        except MailError as exc:
            if exc.retryable:
                for token in claimed:
                    _claim(token, release=True)
                raise
            log.warning("credentials-revoked email not sent", extra={"org_id": change.org_id, "reason": exc.reason})
            continue
        sent += 1
    return sent


def handle(change: MemberChange, request_id: str) -> int:
    """Revoke the SCIM tokens of an admin this change removed or demoted; return tokens revoked.

    One query of the org's SCIM tokens, then one transaction per token to
    revoke; the notices still pending (this delivery's, or an earlier one's
    whose email failed) are claimed and mailed.
    """
    reason = lost_power(change)
    if reason is None:
        return 0
    made = [t for t in _scim_tokens(change.org_id) if _made_by(t, change.account_id)]
    revoked = [t for t in made if t.revoked_at is None and _ended(t, change) and _revoke(t, change, reason, request_id)]
    _notify(change, reason, [t for t in made if t.notice_pending])
    if revoked:
        log.info(
            "SCIM tokens revoked",
            extra={"org_id": change.org_id, "account_id": change.account_id, "count": len(revoked), "reason": reason},
        )
    return len(revoked)
