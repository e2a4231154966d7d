"""DynamoDB stream handlers (Members, Invitations, Sessions).

Chalice retries a failed batch whole, so every service called from here
must be idempotent (invariant 6). The stream ARNs come from settings at
import time (a placeholder by default; the template sets the real ones).
"""

from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from ..config import get_settings
from ..services import stream_changes

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
_settings = get_settings()


@bp.on_dynamodb_record(stream_arn=_settings.members_stream_arn, batch_size=100, starting_position="LATEST")
def on_member_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Members stream: seat revoked / member removed -> tokens revoked; seat assigned -> email."""
    return stream_changes.handle_member_records([record.to_dict() for record in event])


@bp.on_dynamodb_record(stream_arn=_settings.invitations_stream_arn, batch_size=100, starting_position="LATEST")
def on_invitation_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Invitations stream: invitation (re)issued -> invitation email."""
    return stream_changes.handle_invitation_records([record.to_dict() for record in event])


@bp.on_dynamodb_record(stream_arn=_settings.sessions_stream_arn, batch_size=100, starting_position="LATEST")
def on_session_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Sessions stream: sign-in requested -> sign-in email (when an account has the email)."""
    return stream_changes.handle_session_records([record.to_dict() for record in event])


# Which handler serves which table's stream (used by the local stream pump).
HANDLERS_BY_TABLE = {
    "members": on_member_change,
    "invitations": on_invitation_change,
    "sessions": on_session_change,
}
