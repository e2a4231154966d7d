"""Pages: the invitation an email links to, and accepting it."""

from __future__ import annotations

from chalice import Blueprint

from ..domain.errors import DomainError, InvitationSuperseded
from ..services import invitation_accept, invitation_links, orgs
from .web import Page, PageRequest, page_route

bp = Blueprint(__name__)

# What each dead link says, with the org's name when the link names a real org.
DEAD_LINKS = {
    "invitation_expired": (
        "This invitation has expired",
        "Invitations work for seven days. Ask an admin of {org} to resend it.",
    ),
    "invitation_revoked": (
        "This invitation was removed",
        "An admin of {org} removed it. If you still need to join, ask an admin of {org} to invite you again.",
    ),
    "invitation_superseded": (
        "This invitation link was replaced",
        "A newer invitation to {org} was sent to you since: use the link in the most recent email,"
        " or ask an admin of {org} to resend it.",
    ),
    "already_accepted": ("This invitation was already accepted", "It works once. Sign in to use {org}."),
    "already_member": (
        "You are already a member",
        "This email address is already a member of {org}. Sign in to use it.",
    ),
    "not_found": (
        "This invitation link does not work",
        "Check that the whole link was copied from the email, or ask an admin to resend it.",
    ),
}


def dead_link(token: str, error: DomainError) -> Page:
    link = invitation_links.parse(token)
    org = (orgs.name_of(link.org_id) if link else None) or "the organization"
    reason = "invitation_superseded" if isinstance(error, InvitationSuperseded) else error.code
    title, sentence = DEAD_LINKS.get(reason, DEAD_LINKS["not_found"])
    status = 404 if error.code == "not_found" else 410 if error.code != "already_member" else 409
    return Page(
        "message.html",
        {"title": title, "message": sentence.format(org=org), "link": ("/sign-in", "Sign in")},
        status,
    )


@page_route(
    bp,
    "/invitations/{token}",
    summary="The invitation page: org, inviter, role, expiry, Accept Invitation",
    auth="optional",
)
def invitation_page(req: PageRequest, token: str) -> Page:
    try:
        preview = invitation_accept.preview(token)
    except DomainError as exc:
        if exc.code in DEAD_LINKS:
            return dead_link(token, exc)
        raise
    invitation = preview.invitation
    signed_in_as = req.session.email if req.session else None
    return Page(
        "invitation.html",
        {
            "title": f"Join {preview.org_name or 'the organization'}",
            "token": token,
            "org_name": preview.org_name or "the organization",
            "inviter": preview.inviter,
            "invitation": invitation,
            "other_account": signed_in_as is not None and signed_in_as != invitation.email,
        },
    )


@page_route(bp, "/invitations/{token}/accept", "POST", summary="Accept Invitation", auth="optional")
def accept(req: PageRequest, token: str) -> Page:
    try:
        accepted = invitation_accept.accept(
            token, req.session.principal if req.session else None, req.request_id, new_account_gets="session"
        )
    except DomainError as exc:
        if exc.code in DEAD_LINKS:
            return dead_link(token, exc)
        raise
    if accepted.session_secret:
        req.start_session(accepted.session_secret, accepted.account_id, accepted.email)
    return Page(
        "joined.html",
        {
            "title": f"You joined {accepted.org_name or 'the organization'}",
            "accepted": accepted,
            "signed_in": req.session is not None,
        },
    )
