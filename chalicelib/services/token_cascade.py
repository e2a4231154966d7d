"""The revocation cascade: a revoked seat or a removed member ends every earlier token.

Verification already refuses those tokens from the moment the member item
changed (seat generation and membership are checked live); the cascade
marks them revoked with a reason so that listings show why, and cleanup
can rely on the flag. It writes the updated token items back with
BatchWriteItem (25 per request) after one query of the owner index, and
writes its audit record in the last batch: about ceil(n/25) + 1 requests
for n tokens. Replaying a record finds no active token and writes nothing
(invariant 6); tokens issued for a later seat or membership are left alone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..clock import now
from ..domain.models import Actor
from ..domain.tokens import TokenKind, ended_with
from ..storage import audit as audit_rows
from ..storage import tokens as token_rows
from ..storage.bulk import put_rows
from ..storage.tokens import access_token_owner
from . import audit
from .member_records import MemberChange

log = logging.getLogger(__name__)

SEAT_REVOKED = "seat_revoked"
MEMBER_REMOVED = "member_removed"


def revoke_tokens(
    change: MemberChange, reason: str, joined_at: datetime, generation: int | None, request_id: str
) -> int:
    """Mark the member's earlier active tokens revoked; return how many."""
    owner = access_token_owner(change.org_id, change.account_id)
    ended = [
        t
        for t in token_rows.owned_by(owner, unrevoked=True)
        if t.kind == TokenKind.ACCESS_TOKEN and ended_with(t, joined_at, generation)
    ]
    if not ended:
        return 0
    revoked = [t.token_id for t in ended]
    items: list[tuple[str, dict[str, Any]]] = token_rows.revoked_rows(ended, reason, now())
    actor = Actor.system("token_cascade", request_id)
    # Time and id from the record: a replay after a partial failure rewrites the same audit item.
    entry = audit.build(
        change.org_id,
        actor,
        "tokens.revoked",
        change.account_id,
        {"reason": reason, "count": len(revoked), "token_ids": revoked[:100]},
        at=change.at,
        audit_id=f"aud_{change.event_id}"[:64],
    )
    items.append(audit_rows.row(entry))
    put_rows(items)
    log.info(
        "tokens revoked",
        extra={"org_id": change.org_id, "account_id": change.account_id, "count": len(revoked), "reason": reason},
    )
    return len(revoked)


def handle(change: MemberChange, request_id: str) -> int:
    """Run the cascade when this change revoked a seat or removed a member; return tokens revoked."""
    if change.event_name == "REMOVE" and change.old is not None:
        return revoke_tokens(change, MEMBER_REMOVED, change.old.joined_at, None, request_id)
    if change.event_name == "MODIFY" and change.seat_revoked and change.new is not None:
        generation = int(change.new.seat_generation or 0)
        return revoke_tokens(change, SEAT_REVOKED, change.new.joined_at, generation, request_id)
    return 0
