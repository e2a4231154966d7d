"""Invitations stream: email each (invitation, issue) at most once.

A record asks for an email when its new image is a pending invitation whose
delivery is ``queued`` and whose issue was not yet claimed. The handler
claims the send with a conditional update (same issue, same link nonce,
still queued), so a replayed batch, or two concurrent deliveries of one
record, send one email. It then rebuilds the link from the stored nonce and
the server key (``invitation_links``: the link itself is in no table and no
stream record), sends it, and stores ``sent`` or ``failed`` with the reason,
with an audit record. A mail failure never raises (it is recorded on the
invitation, and a retry would mail nobody new); the invitation stays and
resend works.

A claim is a lease (``SEND_LEASE_SECONDS``): if the function dies between
claiming and recording, the claim is taken again once it is older than the
lease, by a replay of the record or by the hourly job, which finds such
claims in the sparse ``sending_by_claim`` index. So a crash costs at worst a
second email (when the first did go out before the crash), never a lost one;
until then the API shows the send as ``failed``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..clock import now
from ..config import get_settings
from ..domain import invitations as rules
from ..domain.invitations import FAILED, SENT, StoredInvitation
from ..domain.models import Actor
from ..mail import MailError, get_mailer, templates
from ..storage import invitations as slots
from ..storage.base import TransactionCancelled, Tx
from . import audit, invitation_links, orgs

if TYPE_CHECKING:
    from chalice.app import DynamoDBRecord

log = logging.getLogger(__name__)


def wants_email(record: DynamoDBRecord) -> StoredInvitation | None:
    """The new image of a record that asks for an invitation email, else None."""
    if record.event_name not in {"INSERT", "MODIFY"} or not record.new_image:
        return None
    item = slots.of_image(record.new_image)
    return item if item is not None and rules.wants_email(item) else None


def _lease_cutoff() -> datetime:
    """Claims made at or before this moment have outlived their lease."""
    return now() - timedelta(seconds=get_settings().send_lease_seconds)


def _record_outcome(item: StoredInvitation, error: str | None, request_id: str) -> None:
    """Store sent (no ``error``) or failed on the issue we sent (a newer issue keeps its own ``queued``)."""
    tx = Tx()
    slots.record_send_in(tx, item, error, now())
    action = "invitation.email_failed" if error else "invitation.email_sent"
    details: dict[str, Any] = {"email": item.email, "issue": item.issue}
    if error:
        details["reason"] = error
    audit.record(tx, item.org_id, Actor.system("invitation_delivery", request_id), action, item.invitation_id, details)
    try:
        tx.commit()
    except TransactionCancelled:
        log.info(
            "invitation reissued while its email was sent",
            extra={"org_id": item.org_id, "invitation_id": item.invitation_id},
        )


def deliver(item: StoredInvitation, org_names: dict[str, str | None], request_id: str) -> str:
    """Claim, send and record one invitation email; returns what happened."""
    if not slots.claim_send(item, now(), _lease_cutoff()):  # a live claim elsewhere, recorded, or moved on
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
        expires_at=item.expires_at or now(),
    )
    try:
        get_mailer().send(message)
    except Exception as exc:  # any sender failure is this record's, never the batch's
        reason = exc.reason if isinstance(exc, MailError) else f"mailer error: {type(exc).__name__}"
        log.warning(
            "invitation email failed",
            extra={"org_id": item.org_id, "invitation_id": item.invitation_id, "reason": reason},
        )
        _record_outcome(item, reason or "unknown", request_id)
        return FAILED
    _record_outcome(item, None, request_id)
    return SENT


def retake_lost_sends(request_id: str) -> dict[str, int]:
    """The hourly job's part: send again every email whose claim outlived its lease (one query per shard)."""
    cutoff = _lease_cutoff()
    counts = {"lost_sends": 0, str(SENT): 0, str(FAILED): 0, "skipped": 0}  # plain words in logs and answers
    org_names: dict[str, str | None] = {}
    for item in slots.claims_made_by(cutoff):
        counts["lost_sends"] += 1
        if not rules.claim_still_wanted(item):
            slots.forget_claim(item)  # the invitation moved on (accepted, removed, reissued): nothing to send
            counts["skipped"] += 1
            continue
        counts[str(deliver(item, org_names, request_id))] += 1
    return counts


def handle_record(record: DynamoDBRecord, request_id: str, org_names: dict[str, str | None]) -> str | None:
    """Mail the invitation a stream record asks for, once (idempotent, invariant 6); None: nothing asked.

    ``org_names`` is the batch's cache of org names (one read per org, not per email).
    """
    item = wants_email(record)
    if item is None:
        return None
    return deliver(item, org_names, request_id)
