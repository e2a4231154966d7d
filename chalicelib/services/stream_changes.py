"""What stream records mean: the services behind the stream handlers.

Records arrive as dicts in the DynamoDB stream shape (``eventName``,
``dynamodb.Keys/NewImage/OldImage``). Handlers must be idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def handle_member_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Members changes. The token cascade and seat email land with seats and tokens."""
    log.info("members stream: %d record(s)", len(records))
    return {"records": len(records)}


def handle_invitation_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Invitation changes. Invitation email delivery lands with invitations."""
    log.info("invitations stream: %d record(s)", len(records))
    return {"records": len(records)}
