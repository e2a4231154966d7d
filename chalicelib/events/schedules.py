"""Scheduled handlers (EventBridge). EventBridge may deliver twice: jobs are idempotent."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import CloudWatchEvent

bp = Blueprint(__name__)

EXPIRE_INVITATIONS_RATE = "rate(1 hour)"


@bp.schedule(EXPIRE_INVITATIONS_RATE, name="expire_invitations")
def expire_invitations(event: CloudWatchEvent) -> dict[str, Any]:
    """Mark due pending invitations expired."""
    from ..services import jobs  # with the first event: this module loads in every function's cold start

    request_id = getattr(event.context, "aws_request_id", None) or f"schedule-{event.event_id}"
    return jobs.expire_invitations(request_id=request_id)


# Local stack: which handlers to run and how often (seconds).
SCHEDULED = {"expire_invitations": (expire_invitations, 3600)}
