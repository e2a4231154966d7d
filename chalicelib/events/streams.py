"""DynamoDB stream handlers (Members, Invitations, Sessions).

Each record is handled on its own (``events.batch``): a record that fails
is reported in ``batchItemFailures`` and retried, and the batch's other
records are not rerun for it (the event source mappings report batch item
failures, ``deploy/build_template.py``). Every service called from here is
idempotent (invariant 6). The stream ARNs are read from the environment at
import time, without building the settings (a placeholder by default; the
template sets the real ones), and the services load with the first record:
importing this module is part of every function's cold start (``app.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from ..environment import stream_arn
from . import batch

bp = Blueprint(__name__)


@bp.on_dynamodb_record(stream_arn=stream_arn("members"), batch_size=100, starting_position="LATEST")
def on_member_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Members stream: seat revoked / member removed -> tokens revoked; seat assigned -> email."""
    from ..services import stream_changes

    return batch.process(event, stream_changes.member_record, "members").response()


@bp.on_dynamodb_record(stream_arn=stream_arn("invitations"), batch_size=100, starting_position="LATEST")
def on_invitation_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Invitations stream: invitation (re)issued -> invitation email."""
    from ..services import stream_changes

    handle = functools.partial(stream_changes.invitation_record, org_names={})
    return batch.process(event, handle, "invitations").response()


@bp.on_dynamodb_record(stream_arn=stream_arn("sessions"), batch_size=100, starting_position="LATEST")
def on_session_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Sessions stream: sign-in requested -> sign-in email (when an account has the email)."""
    from ..services import stream_changes

    return batch.process(event, stream_changes.session_record, "sessions").response()


# Which handler serves which table's stream (used by the local stream pump).
HANDLERS_BY_TABLE = {
    "members": on_member_change,
    "invitations": on_invitation_change,
    "sessions": on_session_change,
}
