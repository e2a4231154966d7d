"""The seat-assigned email (text + HTML): tells a new seat holder where to issue a token."""

from __future__ import annotations

from html import escape

from ..domain import org_names
from .base import Message


def seat_assigned(to: str, org_name: str, tokens_url: str) -> Message:
    org = org_names.for_mail(org_name) or "your organization"
    text = (
        f"You have been assigned a seat in {org}.\n\n"
        "With a seat you can issue yourself an organization access token to use the "
        "organization's channels. Open the Token Access page to issue one:\n"
        f"{tokens_url}\n"
    )
    html = (
        f"<p>You have been assigned a seat in <strong>{escape(org)}</strong>.</p>"
        "<p>With a seat you can issue yourself an organization access token to use the "
        f'organization\'s channels. Open the <a href="{escape(tokens_url, quote=True)}">Token Access</a> page '
        "to issue one.</p>"
    )
    return Message(to=to, subject=f"You have a seat in {org}", text=text, html=html, tags={"kind": "seat_assigned"})
