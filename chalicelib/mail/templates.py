"""Email templates (text + HTML) for invitations and sign-in codes.

Every value that came from a user (org names, inviter names, emails) is
flattened to one line for the subject and text, and HTML-escaped for the
HTML part; header values are made safe once more by the senders. Org names
go through ``org_names.for_mail``: a stored name that looks like a link
(saved before names were checked) is defanged (``evil[.]example``,
``https[:]//``), so no mail client turns it into a link.
"""

from __future__ import annotations

import html
from datetime import datetime

from ..domain import org_names
from .base import Message, header_safe


def _line(value: str | None, fallback: str, limit: int = 200) -> str:
    return header_safe(value or "", limit) or fallback


def _when(value: datetime) -> str:
    return value.strftime("%d %B %Y, %H:%M UTC")


def invitation(
    *, to: str, org_name: str | None, inviter: str | None, role: str, accept_url: str, expires_at: datetime
) -> Message:
    """The invitation email: who invites you to which org, as what, the page to accept on, and until when."""
    org = org_names.for_mail(org_name or "") or "an organization"
    who = _line(inviter, "An administrator")
    role_name = role.replace("_", " ")
    until = _when(expires_at)
    text = (
        f"{who} invited you to join {org} as {role_name}.\n\n"
        f"Open this link to see the invitation and accept it:\n{accept_url}\n\n"
        "If you have no account yet, accepting creates one for this email address.\n"
        f"The link works until {until} and only once. "
        "If you did not expect this email, ignore it.\n"
    )
    e = html.escape
    body = (
        "<!doctype html><html><body>"
        f"<p>{e(who)} invited you to join <strong>{e(org)}</strong> as {e(role_name)}.</p>"
        f'<p><a href="{e(accept_url, quote=True)}">See the invitation and accept it</a></p>'
        "<p>If you have no account yet, accepting creates one for this email address.</p>"
        f"<p>The link works until {e(until)} and only once. If you did not expect this email, ignore it.</p>"
        "</body></html>"
    )
    subject = f"You are invited to join {org}"
    return Message(to=to, subject=subject, text=text, html=body, tags={"kind": "invitation"})


def login_code(*, to: str, code: str, signin_url: str, redeem_url: str, expires_at: datetime) -> Message:
    """The sign-in email: a link to the sign-in page, and the same one-time code for API users."""
    until = _when(expires_at)
    text = (
        "Someone (hopefully you) asked to sign in.\n\n"
        f"Open this link and press Sign in:\n{signin_url}\n\n"
        f"For scripts: the one-time code {code} can instead be exchanged for a new API key "
        f"at {redeem_url}.\n\n"
        f"The link works once, until {until}. If you did not ask for it, ignore this email.\n"
    )
    e = html.escape
    body = (
        "<!doctype html><html><body>"
        "<p>Someone (hopefully you) asked to sign in.</p>"
        f'<p><a href="{e(signin_url, quote=True)}">Open the sign-in page</a> and press <strong>Sign in</strong>.</p>'
        f"<p>For scripts: the one-time code <code>{e(code)}</code> can instead be exchanged for a new API key "
        f"at <code>{e(redeem_url)}</code>.</p>"
        f"<p>The link works once, until {e(until)}. If you did not ask for it, ignore this email.</p>"
        "</body></html>"
    )
    return Message(to=to, subject="Your sign-in link", text=text, html=body, tags={"kind": "login_code"})
