"""What stream records mean: one function per table, each handling one typed record.

The stream handlers (``events.streams``) run these through the batch
processor (``events.batch``), so a record that raises is retried on its own
and the batch's other records are not. Every function here is idempotent:
a record, and those after a failed one, may be delivered again (invariant 6).
``request_id`` is the invocation's (Lambda context), for audit records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import invitation_delivery, login_links, maker_cascade, member_records, seat_notifications, token_cascade

if TYPE_CHECKING:
    from chalice.app import DynamoDBRecord


def member_record(record: DynamoDBRecord, request_id: str) -> dict[str, int]:
    """Members change: token cascade on seat revocation/removal, SCIM tokens and service accounts of
    an admin removed or demoted (``maker_cascade``), seat-assigned email (a retryable mail failure
    raises: retried)."""
    change = member_records.decode(record)
    tokens_revoked = token_cascade.handle(change, request_id)
    ended = maker_cascade.handle(change, request_id)
    return {
        "tokens_revoked": tokens_revoked,
        "scim_tokens_revoked": ended.scim_tokens_revoked,
        "service_accounts_disabled": ended.service_accounts_disabled,
        "seat_emails": seat_notifications.handle(change),
    }


def invitation_record(
    record: DynamoDBRecord, request_id: str, org_names: dict[str, str | None] | None = None
) -> dict[str, int]:
    """Invitation change: send the invitation email once per issue (``org_names``: the batch's cache)."""
    counts = {invitation_delivery.SENT: 0, invitation_delivery.FAILED: 0, "skipped": 0}
    outcome = invitation_delivery.handle_record(record, request_id, {} if org_names is None else org_names)
    if outcome:
        counts[outcome] += 1
    return counts


def session_record(record: DynamoDBRecord, request_id: str) -> dict[str, int]:
    """Sessions change: mail a new sign-in request once."""
    outcome = login_links.handle_record(record)
    return {outcome: 1} if outcome else {}
