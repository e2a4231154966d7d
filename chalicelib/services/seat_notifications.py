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

from pynamodb.exceptions import UpdateError

from ..config import get_settings
from ..mail import MailError, get_mailer
from ..mail.seat_templates import seat_assigned
from ..storage.base import is_condition_failure
from ..storage.members import MemberModel
from . import orgs
from .member_records import MemberChange

log = logging.getLogger(__name__)


def tokens_url(org_id: str) -> str:
    """Where a seat holder issues a token: the console's Token Access page of the org."""
    return f"{get_settings().public_base_url.rstrip('/')}/orgs/{quote(org_id, safe='')}/tokens"


def _claim(org_id: str, account_id: str, generation: int) -> bool:
    condition = (
        (MemberModel.has_seat == True)  # noqa: E712  (a DynamoDB condition)
        & (MemberModel.seat_generation == generation)
        & (MemberModel.seat_notified_generation.does_not_exist() | (MemberModel.seat_notified_generation < generation))
    )
    try:
        MemberModel(org_id, account_id).update(
            actions=[MemberModel.seat_notified_generation.set(generation)], condition=condition
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False  # already sent, or the seat is gone again
        raise
    return True


def _release(org_id: str, account_id: str, generation: int) -> None:
    MemberModel(org_id, account_id).update(
        actions=[MemberModel.seat_notified_generation.remove()],
        condition=MemberModel.seat_notified_generation == generation,
    )


def handle(change: MemberChange) -> int:
    """Email the member newly seated by this change when the assignment asked for it; return emails sent."""
    new = change.new
    # seat_notify is False only when the assignment asked for no email (members inserted with a seat get one).
    if new is None or not change.seat_assigned or new.seat_notify is False:
        return 0
    generation = int(new.seat_generation or 0)
    if not _claim(change.org_id, change.account_id, generation):
        return 0
    message = seat_assigned(new.email, orgs.name_of(change.org_id) or "your organization", tokens_url(change.org_id))
    try:
        get_mailer().send(message)
    except MailError as exc:
        if exc.retryable:
            _release(change.org_id, change.account_id, generation)
            raise
        log.warning(
            "seat email not sent",
            extra={"org_id": change.org_id, "account_id": change.account_id, "reason": exc.reason},
        )
        return 0
    return 1
