"""Email templates (text + HTML) for invitations and sign-in codes.

Every value that came from a user (org names, inviter names, emails) is
flattened to one line for the subject and text, and HTML-escaped for the
HTML part; header values are made safe once more by the senders.
"""

from __future__ import annotations

import html
from datetime import datetime

from .base import Message, header_safe


def _line(value: str | None, fallback: str, limit: int = 200) -> str:
    return header_safe(value or "", limit) or fallback


def _when(value: datetime) -> str:
    return value.strftime("%d %B %Y, %H:%M UTC")


def invitation(
    *, to: str, org_name: str | None, inviter: str | None, role: str, accept_url: str, expires_at: datetime
) -> Message:
    """The invitation email: who invites you to which org, as what, the link, and until when."""
    org = _line(org_name, "an organization")
    who = _line(inviter, "An administrator")
    role_name = role.replace("_", " ")
    accept = f"{accept_url}/accept"
    until = _when(expires_at)
    text = (
        f"{who} invited you to join {org} as {role_name}.\n\n"
        f"See the invitation: {accept_url}\n"
        f"Accept it (POST, with your API key if you have an account): {accept}\n\n"
        f"The link works until {until} and only once. "
        "If you did not expect this email, ignore it.\n"
    )
    e = html.escape
    body = (
        "<!doctype html><html><body>"
        f"<p>{e(who)} invited you to join <strong>{e(org)}</strong> as {e(role_name)}.</p>"
        f'<p><a href="{e(accept_url, quote=True)}">See the invitation</a></p>'
        f"<p>To accept, POST to <code>{e(accept)}</code>.</p>"
        f"<p>The link works until {e(until)} and only once. If you did not expect this email, ignore it.</p>"
        "</body></html>"
    )
    subject = f"You are invited to join {org}"
    return Message(to=to, subject=subject, text=text, html=body, tags={"kind": "invitation"})


def login_code(*, to: str, code: str, redeem_url: str, expires_at: datetime) -> Message:
    """The sign-in email: a one-time code that buys a new API key."""
    until = _when(expires_at)
    text = (
        "Someone (hopefully you) asked for a sign-in code.\n\n"
        f"Your one-time code: {code}\n"
        f'Exchange it for a new API key: POST {redeem_url} with {{"code": "{code}"}}\n\n'
        f"The code works once, until {until}. If you did not ask for it, ignore this email.\n"
    )
    e = html.escape
    body = (
        "<!doctype html><html><body>"
        "<p>Someone (hopefully you) asked for a sign-in code.</p>"
        f"<p>Your one-time code: <code>{e(code)}</code></p>"
        f"<p>Exchange it for a new API key: POST <code>{e(redeem_url)}</code> with the code.</p>"
        f"<p>The code works once, until {e(until)}. If you did not ask for it, ignore this email.</p>"
        "</body></html>"
    )
    return Message(to=to, subject="Your sign-in code", text=text, html=body, tags={"kind": "login_code"})
