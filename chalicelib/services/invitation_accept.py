"""The public link: preview an invitation and accept it (join the org), single-use under concurrent accepts."""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import now
from ..domain.errors import (
    AlreadyAccepted,
    AlreadyMember,
    EmailMismatch,
    InvitationExpired,
    InvitationRevoked,
    InvitationSuperseded,
    NotFound,
)
from ..domain.invitations import ACCEPTED, EXPIRED, NO_INVITATION, REVOKED, Invitation, StoredInvitation
from ..domain.models import Actor, Principal
from ..domain.roles import Role
from ..storage import invitations as slots
from ..storage.base import Tx, any_cancellation, lost_race, retry_races
from ..storage.bulk import CONFLICT_RETRIES
from . import accounts, audit, invitation_links, invitations, keys, members, orgs, sessions


@dataclass(frozen=True)
class Preview:
    invitation: Invitation
    org_name: str | None
    inviter: str | None


def _live(token: str) -> tuple[invitation_links.LinkToken, StoredInvitation]:
    """The invitation behind a link, if the link still admits; else the reason as an error."""
    link = invitation_links.parse(token)
    item = slots.get(link.org_id, link.invitation_id) if link else None
    if link is None or item is None:
        raise NotFound("No such invitation.")
    if item.link_nonce != link.nonce:  # reissued, or superseded by joining another way
        if item.member_account_id and item.status == NO_INVITATION:
            raise AlreadyMember()
        if item.status == REVOKED:
            raise InvitationRevoked("This invitation was removed.")
        raise InvitationSuperseded()
    status = invitations.effective_status(item)
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
    return Preview(invitation=invitations.to_invitation(item), org_name=orgs.name_of(item.org_id), inviter=item.inviter)


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

    def attempt() -> Accepted:
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
        # The slot moved on (another accept, a reissue, a direct add): read again, whatever else failed.
        slots.accept_in(tx, item, account.account_id, stamp, on_fail=lost_race)
        # A member already (or an account created meanwhile): read again, the fresh state names the
        # outcome; the org refusing the join (gone) is 404.
        members.add_membership_to(tx, link.org_id, account, role, mark_slot=False, if_member=None)
        api_key = None
        session_secret = None
        if created and new_account_gets == "session":
            session_secret = sessions.add_session_to(tx, account.account_id, account.email)
        elif created:
            key_item, secret = keys.add_new_key_to(tx, account.account_id, "invitation")
            api_key = (key_item.token_id, secret)
        actor = Actor(actor=f"account:{account.account_id}", request_id=request_id, account_id=account.account_id)
        details = {"email": item.email, "role": role.value, "account_id": account.account_id}
        audit.record(tx, link.org_id, actor, "invitation.accepted", item.invitation_id, details)
        audit.record(tx, link.org_id, actor, "member.added", account.account_id, {**details, "via": "invitation"})
        tx.commit()
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

    # Any cancellation (the slot moved on, an account created meanwhile, a conflict): read again.
    return retry_races(attempt, attempts=CONFLICT_RETRIES, races=any_cancellation)
