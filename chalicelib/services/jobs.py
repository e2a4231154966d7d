"""Scheduled jobs."""

from __future__ import annotations

from typing import Any

from . import invitations


def expire_invitations(request_id: str) -> dict[str, Any]:
    """Mark due pending invitations expired; running it twice changes nothing the second time."""
    run = invitations.expire_due(request_id)
    return {"read": run.read, "expired": run.expired, "request_id": request_id}
