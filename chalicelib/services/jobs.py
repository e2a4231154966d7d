"""Scheduled jobs."""

from __future__ import annotations

from typing import Any

from . import invitation_delivery, invitation_expiry


def expire_invitations(request_id: str) -> dict[str, Any]:
    """Hourly: mark due pending invitations expired, and send again emails a crash left claimed.

    Running it twice changes nothing the second time.
    """
    run = invitation_expiry.expire_due(request_id)
    resent = invitation_delivery.retake_lost_sends(request_id)
    return {"read": run.read, "expired": run.expired, **resent, "request_id": request_id}
