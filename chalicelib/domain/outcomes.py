"""Per-item outcomes of bulk calls (invite, resend, remove, seats, onboarding, direct add), and their counts.

One enum for every such status, so each is defined once; a StrEnum, so the
JSON strings are the very words of the API. Each call answers a subset,
listed here in the order the API documents it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    # invitations
    INVITED = "invited"
    ALREADY_INVITED = "already_invited"
    ALREADY_MEMBER = "already_member"
    INVALID_EMAIL = "invalid_email"
    INVALID_ROLE = "invalid_role"
    DUPLICATE_IN_REQUEST = "duplicate_in_request"
    INVITATION_QUOTA_EXCEEDED = "invitation_quota_exceeded"
    RESENT = "resent"
    ALREADY_ACCEPTED = "already_accepted"
    NOT_FOUND = "not_found"
    RESEND_TOO_SOON = "resend_too_soon"
    RESEND_QUOTA_EXCEEDED = "resend_quota_exceeded"
    REMOVED = "removed"
    ALREADY_REMOVED = "already_removed"
    # seats
    ASSIGNED = "assigned"
    ALREADY_ASSIGNED = "already_assigned"
    NOT_MEMBER = "not_member"
    SEAT_LIMIT_REACHED = "seat_limit_reached"
    REVOKED = "revoked"
    NO_SEAT = "no_seat"
    # onboarding and direct adds
    ONBOARDED = "onboarded"
    ADDED = "added"
    CONFLICT = "conflict"  # kept losing races: retry this item
    FORBIDDEN = "forbidden"  # the caller stopped being an admin during the call: not written


INVITE_OUTCOMES = (
    Outcome.INVITED,
    Outcome.ALREADY_INVITED,
    Outcome.ALREADY_MEMBER,
    Outcome.INVALID_EMAIL,
    Outcome.INVALID_ROLE,
    Outcome.DUPLICATE_IN_REQUEST,
    Outcome.INVITATION_QUOTA_EXCEEDED,
)
RESEND_OUTCOMES = (
    Outcome.RESENT,
    Outcome.ALREADY_ACCEPTED,
    Outcome.ALREADY_MEMBER,
    Outcome.NOT_FOUND,
    Outcome.DUPLICATE_IN_REQUEST,
    Outcome.RESEND_TOO_SOON,
    Outcome.RESEND_QUOTA_EXCEEDED,
)
REMOVE_OUTCOMES = (
    Outcome.REMOVED,
    Outcome.ALREADY_REMOVED,
    Outcome.ALREADY_ACCEPTED,
    Outcome.NOT_FOUND,
    Outcome.DUPLICATE_IN_REQUEST,
)
ADD_OUTCOMES = (Outcome.ADDED, Outcome.INVITED, Outcome.ALREADY_INVITED)


class HasOutcome(Protocol):
    @property
    def status(self) -> Outcome: ...


def tally(results: Iterable[HasOutcome], listed: Sequence[Outcome] | None = None) -> dict[str, int]:
    """Results per status, for the bulk responses' ``summary``.

    With ``listed`` (the invitation calls) the counts start with ``total`` and
    every listed status, zero or not; without, only the statuses that occur.
    """
    counts: dict[str, int] = {}
    if listed is not None:
        counts["total"] = 0
        counts.update(dict.fromkeys((str(s) for s in listed), 0))
    for r in results:
        counts[str(r.status)] = counts.get(str(r.status), 0) + 1
        if listed is not None:
            counts["total"] += 1
    return counts
