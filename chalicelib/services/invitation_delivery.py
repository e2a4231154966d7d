"""Invitations stream: email each (invitation, issue) at most once.

A record asks for an email when its new image is a pending invitation whose
delivery is ``queued`` and whose issue was not yet claimed. The handler
claims the send with a conditional update (same issue, same link nonce,
still queued), so a replayed batch, or two concurrent deliveries of one
record, send one email. It then rebuilds the link from the stored nonce and
the server key (``invitation_links``: the link itself is in no table and no
stream record), sends it, and stores ``sent`` or ``failed`` with the reason,
with an audit record. A mail failure never raises (the batch would be
retried whole); the invitation stays and resend works. If the function dies
between the claim and the send, the status stays ``sending`` and the admin
resends: at most once, never twice.
"""

from __future__ import annotations

import logging
from typing import Any

from ..clock import now, parse_iso
from ..domain.models import Actor
from ..mail import MailError, get_mailer, templates
from ..storage.base import TransactionCancelled, Tx, is_condition_failure
from ..storage.invitations import InvitationModel
from . import audit, invitation_links, orgs
from .invitations import FAILED, PENDING, QUEUED, SENDING, SENT

log = logging.getLogger(__name__)


def wants_email(record: dict[str, Any]) -> InvitationModel | None:
    """The new image of a record that asks for an invitation email, else None."""
    if record.get("eventName") not in {"INSERT", "MODIFY"}:
        return None
    image = (record.get("dynamodb") or {}).get("NewImage")
    if not image:
        return None
    item = InvitationModel.from_raw_data(image)
    if item.status != PENDING or item.delivery_status != QUEUED or not item.link_nonce or not item.expires_at:
        return None
    if item.delivered_issue is not None and int(item.delivered_issue) == int(item.issue):
        return None
    return item


def _claim(item: InvitationModel) -> bool:
    """Take the send for this issue; False when someone already did or the invitation moved on."""
    try:
        InvitationModel(item.org_id, item.invitation_id).update(
            actions=[InvitationModel.delivery_status.set(SENDING), InvitationModel.delivered_issue.set(item.issue)],
            condition=(InvitationModel.issue == int(item.issue))
            & (InvitationModel.link_nonce == item.link_nonce)
            & (InvitationModel.status == PENDING)
            & (InvitationModel.delivery_status == QUEUED),
            add_version_condition=False,
        )
    except Exception as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def _record_outcome(item: InvitationModel, status: str, error: str | None, request_id: str) -> None:
    """Store sent/failed on the issue we sent (a newer issue keeps its own ``queued``)."""
    stamp = now()
    actions: list[Any] = [InvitationModel.delivery_status.set(status)]
    if status == SENT:
        actions += [InvitationModel.delivered_at.set(stamp), InvitationModel.delivery_error.remove()]
    else:
        actions.append(InvitationModel.delivery_error.set(error or "unknown"))
    tx = Tx()
    tx.update(
        InvitationModel(item.org_id, item.invitation_id),
        actions,
        condition=(InvitationModel.issue == int(item.issue)) & (InvitationModel.delivery_status == SENDING),
    )
    action = "invitation.email_sent" if status == SENT else "invitation.email_failed"
    details: dict[str, Any] = {"email": item.email, "issue": int(item.issue)}
    if error:
        details["reason"] = error
    audit.record(tx, item.org_id, Actor.system("invitation_delivery", request_id), action, item.invitation_id, details)
    try:
        tx.commit()
    except TransactionCancelled:
        log.info("invitation %s was reissued while its email was sent", item.invitation_id)


def deliver(item: InvitationModel, org_names: dict[str, str | None], request_id: str) -> str:
    """Claim, send and record one invitation email; returns what happened."""
    if not _claim(item):
        return "skipped"
    if item.org_id not in org_names:
        org_names[item.org_id] = orgs.name_of(item.org_id)
    token = invitation_links.token_for(item.org_id, item.invitation_id, str(item.link_nonce))
    message = templates.invitation(
        to=item.email,
        org_name=org_names[item.org_id],
        inviter=item.inviter,
        role=item.role or "member",
        accept_url=invitation_links.accept_url(token),
        expires_at=parse_iso(str(item.expires_at)),
    )
    try:
        get_mailer().send(message)
    except Exception as exc:  # any sender failure is this record's, never the batch's
        reason = exc.reason if isinstance(exc, MailError) else f"mailer error: {type(exc).__name__}"
        log.warning("invitation %s: email failed: %s", item.invitation_id, reason)
        _record_outcome(item, FAILED, reason, request_id)
        return FAILED
    _record_outcome(item, SENT, None, request_id)
    return SENT


def handle_records(records: list[dict[str, Any]], request_id: str = "stream") -> dict[str, Any]:
    """Process one stream batch; idempotent (invariant 6)."""
    counts = {"records": len(records), SENT: 0, FAILED: 0, "skipped": 0}
    org_names: dict[str, str | None] = {}
    for record in records:
        item = wants_email(record)
        if item is None:
            continue
        counts[deliver(item, org_names, request_id)] += 1
    return counts
