"""Seat-assigned email, sent from the Members stream at most once per assignment.

An assignment is identified by the member's ``seat_generation`` (it grows on
every revocation). Before sending, the handler claims that generation with
a conditional update of ``seat_notified_generation`` on the member item, so
a replayed record or a concurrent delivery sends nothing further
(invariant 6). A retryable mail failure releases the claim and fails the
record so that the stream retries it (the batch's other records are not rerun).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from ..config import get_settings
from ..mail import MailError, get_mailer
from ..mail.seat_templates import seat_assigned
from ..storage import members as member_rows
from . import orgs
from .member_records import MemberChange

log = logging.getLogger(__name__)


def tokens_url(org_id: str) -> str:
    """Where a seat holder issues a token: the console's Token Access page of the org."""
    return f"{get_settings().public_base_url.rstrip('/')}/orgs/{quote(org_id, safe='')}/tokens"


def handle(change: MemberChange) -> int:
    """Email the member newly seated by this change when the assignment asked for it; return emails sent."""
    new = change.new
    # seat_notify is False only when the assignment asked for no email (members inserted with a seat get one).
    if new is None or not change.seat_assigned or new.seat_notify is False:
        return 0
    generation = new.seat_generation
    if not member_rows.claim_seat_notice(change.org_id, change.account_id, generation):
        return 0
    message = seat_assigned(new.email, orgs.name_of(change.org_id) or "your organization", tokens_url(change.org_id))
    try:
        get_mailer().send(message)
    except MailError as exc:
        if exc.retryable:
            member_rows.release_seat_notice(change.org_id, change.account_id, generation)
            raise
        log.warning(
            "seat email not sent",
            extra={"org_id": change.org_id, "account_id": change.account_id, "reason": exc.reason},
        )
        return 0
    return 1
