"""The credentials-revoked email (text + HTML): tells the remaining admins which org credentials
ended with their maker's power, and why."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .base import Message, header_safe

REASONS = {
    "maker_removed": "was removed from the organization",
    "maker_demoted": "is no longer an account admin",
}


def credentials_revoked(
    to: str, org_name: str, maker: str, reason: str, tokens: Sequence[tuple[str, str]], settings_url: str
) -> Message:
    """``tokens``: (token id, name) of each SCIM token revoked."""
    org = header_safe(org_name, limit=120) or "your organization"
    who = header_safe(maker, limit=320) or "an administrator"
    why = REASONS.get(reason, "lost the right to manage SCIM provisioning")
    listed = "\n".join(f"- {header_safe(name, limit=120) or '(unnamed)'} ({token_id})" for token_id, name in tokens)
    text = (
        f"{who} {why} in {org}, so the SCIM tokens they created have been revoked:\n\n"
        f"{listed}\n\n"
        "Identity providers using these tokens can no longer provision users. "
        "If provisioning should continue, create a new SCIM token on the Settings page "
        "and give it to your identity provider:\n"
        f"{settings_url}\n"
    )
    items = "".join(
        f"<li>{escape(header_safe(name, limit=120) or '(unnamed)')} (<code>{escape(token_id)}</code>)</li>"
        for token_id, name in tokens
    )
    html = (
        f"<p>{escape(who)} {escape(why)} in <strong>{escape(org)}</strong>, so the SCIM tokens they created "
        f"have been revoked:</p><ul>{items}</ul>"
        "<p>Identity providers using these tokens can no longer provision users. If provisioning should "
        f'continue, create a new SCIM token on the <a href="{escape(settings_url, quote=True)}">Settings</a> '
        "page and give it to your identity provider.</p>"
    )
    return Message(
        to=to,
        subject=f"SCIM tokens revoked in {org}",
        text=text,
        html=html,
        tags={"kind": "credentials_revoked"},
    )
