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
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..clock import iso, now, parse_iso
from ..config import get_settings
from ..domain.invitations import FAILED, PENDING, QUEUED, SENDING, SENT
from ..domain.models import Actor
from ..mail import MailError, get_mailer, templates
from ..storage.base import TransactionCancelled, Tx, is_condition_failure
from ..storage.invitations import PENDING_SHARDS, InvitationModel, pending_shard_of
from . import audit, invitation_links, orgs

if TYPE_CHECKING:
    from chalice.app import DynamoDBRecord

log = logging.getLogger(__name__)


def wants_email(record: DynamoDBRecord) -> InvitationModel | None:
    """The new image of a record that asks for an invitation email, else None."""
    if record.event_name not in {"INSERT", "MODIFY"} or not record.new_image:
        return None
    item = InvitationModel.from_raw_data(record.new_image)
    if item.status != PENDING or item.delivery_status != QUEUED or not item.link_nonce or not item.expires_at:
        return None
    if item.delivered_issue is not None and int(item.delivered_issue) == int(item.issue):
        return None
    return item


def _lease_cutoff() -> str:
    """Claims made at or before this moment (ISO) have outlived their lease."""
    return iso(now() - timedelta(seconds=get_settings().send_lease_seconds))


def _claim(item: InvitationModel) -> bool:
    """Take the send for this issue: queued, or claimed by a process whose lease ran out.

    False when someone holds a live claim, the email was recorded, or the invitation moved on.
    """
    queued = InvitationModel.delivery_status == QUEUED
    lost = (
        (InvitationModel.delivery_status == SENDING)
        & (InvitationModel.delivered_issue == int(item.issue))
        & (InvitationModel.send_claimed_at <= _lease_cutoff())
    )
    try:
        InvitationModel(item.org_id, item.invitation_id).update(
            actions=[
                InvitationModel.delivery_status.set(SENDING),
                InvitationModel.delivered_issue.set(item.issue),
                InvitationModel.send_claimed_at.set(iso(now())),
                InvitationModel.sending_shard.set(pending_shard_of(item.invitation_id)),
            ],
            condition=(InvitationModel.issue == int(item.issue))
            & (InvitationModel.link_nonce == item.link_nonce)
            & (InvitationModel.status == PENDING)
            & (queued | lost),
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
    actions: list[Any] = [
        InvitationModel.delivery_status.set(status),
        InvitationModel.send_claimed_at.remove(),
        InvitationModel.sending_shard.remove(),
    ]
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
        log.info(
            "invitation reissued while its email was sent",
            extra={"org_id": item.org_id, "invitation_id": item.invitation_id},
        )


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
        log.warning(
            "invitation email failed",
            extra={"org_id": item.org_id, "invitation_id": item.invitation_id, "reason": reason},
        )
        _record_outcome(item, FAILED, reason, request_id)
        return FAILED
    _record_outcome(item, SENT, None, request_id)
    return SENT


def retake_lost_sends(request_id: str) -> dict[str, int]:
    """The hourly job's part: send again every email whose claim outlived its lease (one query per shard)."""
    cutoff = _lease_cutoff()
    counts = {"lost_sends": 0, str(SENT): 0, str(FAILED): 0, "skipped": 0}  # plain words in logs and answers
    org_names: dict[str, str | None] = {}
    for shard in range(PENDING_SHARDS):
        for item in InvitationModel.sending_by_claim.query(f"p{shard}", InvitationModel.send_claimed_at <= cutoff):
            counts["lost_sends"] += 1
            if item.status != PENDING or item.delivered_issue is None or int(item.delivered_issue) != int(item.issue):
                _forget_claim(item)  # the invitation moved on (accepted, removed, reissued): nothing to send
                counts["skipped"] += 1
                continue
            counts[str(deliver(item, org_names, request_id))] += 1
    return counts


def _forget_claim(item: InvitationModel) -> None:
    """Take a dead claim out of the index, unless the invitation was claimed again since."""
    try:
        InvitationModel(item.org_id, item.invitation_id).update(
            actions=[InvitationModel.sending_shard.remove(), InvitationModel.send_claimed_at.remove()],
            condition=InvitationModel.send_claimed_at == str(item.send_claimed_at),
            add_version_condition=False,
        )
    except Exception as exc:
        if not is_condition_failure(exc):
            raise


def handle_record(record: DynamoDBRecord, request_id: str, org_names: dict[str, str | None]) -> str | None:
    """Mail the invitation a stream record asks for, once (idempotent, invariant 6); None: nothing asked.

    ``org_names`` is the batch's cache of org names (one read per org, not per email).
    """
    item = wants_email(record)
    if item is None:
        return None
    return deliver(item, org_names, request_id)
