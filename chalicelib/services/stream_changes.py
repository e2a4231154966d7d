"""What stream records mean: routes each table's records to the service that acts on them.

Records arrive as dicts in the DynamoDB stream shape (``eventName``,
``dynamodb.Keys/NewImage/OldImage``). Every service here is idempotent:
Chalice retries a failed batch whole (invariant 6).
"""

from __future__ import annotations

import logging
from typing import Any

from . import invitation_delivery, login_links, maker_cascade, member_records, seat_notifications, token_cascade

log = logging.getLogger(__name__)


def handle_member_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Members changes: token cascade on seat revocation/removal, SCIM tokens of an admin removed or
    demoted (``maker_cascade``), seat-assigned email."""
    changes = [member_records.decode(r) for r in records]
    revoked = token_cascade.handle(changes)
    scim_revoked = maker_cascade.handle(changes)
    emails = seat_notifications.handle(changes)
    outcome = {
        "records": len(records),
        "tokens_revoked": revoked,
        "scim_tokens_revoked": scim_revoked,
        "seat_emails": emails,
    }
    log.info("members stream: %s", outcome)
    return outcome


def handle_invitation_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Invitation changes: send the invitation email once per issue."""
    outcome = invitation_delivery.handle_records(records)
    log.info("invitations stream: %s", outcome)
    return outcome


def handle_session_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Sessions changes: mail each new sign-in request once."""
    outcome = {"records": len(records), **login_links.handle_records(records)}
    log.info("sessions stream: %s", outcome)
    return outcome
