"""Scheduled jobs."""

from __future__ import annotations

from typing import Any


def expire_invitations(request_id: str) -> dict[str, Any]:
    """Mark due pending invitations expired (lands with invitations)."""
    return {"expired": 0, "request_id": request_id}
