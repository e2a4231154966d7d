"""The credentials-revoked email (text + HTML): tells the remaining admins which org credentials
ended with their maker's power (SCIM tokens revoked, service accounts disabled), and why."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .base import Message, header_safe

REASONS = {
    "maker_removed": "was removed from the organization",
    "maker_demoted": "is no longer an account admin",
}

_SCIM_AFTER = (
    "Identity providers using these tokens can no longer provision users. "
    "If provisioning should continue, create a new SCIM token on the Settings page "
    "and give it to your identity provider"
)
_ACCOUNTS_AFTER = (
    "Clients using these service accounts can no longer get or use access tokens. "
    "If they should keep working, create a new service account on the Settings page "
    "and give its client id and secret to the client"
)


def _name(name: str) -> str:
    return header_safe(name, limit=120) or "(unnamed)"


def credentials_revoked(
    to: str,
    org_name: str,
    maker: str,
    reason: str,
    tokens: Sequence[tuple[str, str]],
    settings_url: str,
    service_accounts: Sequence[tuple[str, str]] = (),
) -> Message:
    """``tokens``: (token id, name) of each SCIM token revoked; ``service_accounts``: (client id,
    name) of each service account disabled."""
    org = header_safe(org_name, limit=120) or "your organization"
    who = header_safe(maker, limit=320) or "an administrator"
    # (heading, the "what now" words, items) of each kind of credential that ended.
    parts = [
        (kind, after, items)
        for kind, after, items in (
            ("the SCIM tokens they created have been revoked", _SCIM_AFTER, tokens),
            ("the service accounts they created have been disabled", _ACCOUNTS_AFTER, service_accounts),
        )
        if items
    ]
    fallback = "lost the right to manage SCIM provisioning" if tokens else "lost the right to manage service accounts"
    why = REASONS.get(reason, fallback)
    text_parts = []
    html_parts = []
    link = f'<a href="{escape(settings_url, quote=True)}">Settings</a>'
    for n, (kind, after, items) in enumerate(parts):
        listed = "\n".join(f"- {_name(name)} ({cred_id})" for cred_id, name in items)
        lead = f"{who} {why} in {org}, so {kind}:" if n == 0 else f"Also, {kind}:"
        text_parts.append(f"{lead}\n\n{listed}\n\n{after}:\n{settings_url}\n")
        li = "".join(f"<li>{escape(_name(name))} (<code>{escape(cred_id)}</code>)</li>" for cred_id, name in items)
        html_lead = (
            f"{escape(who)} {escape(why)} in <strong>{escape(org)}</strong>, so {escape(kind)}:"
            if n == 0
            else f"Also, {escape(kind)}:"
        )
        html_after = escape(after).replace("the Settings page", f"the {link} page")
        html_parts.append(f"<p>{html_lead}</p><ul>{li}</ul><p>{html_after}.</p>")
    if tokens and service_accounts:
        subject = f"SCIM tokens revoked and service accounts disabled in {org}"
    elif service_accounts:
        subject = f"Service accounts disabled in {org}"
    else:
        subject = f"SCIM tokens revoked in {org}"
    return Message(
        to=to,
        subject=subject,
        text="\n".join(text_parts),
        html="".join(html_parts),
        tags={"kind": "credentials_revoked"},
    )
