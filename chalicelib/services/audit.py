"""Audit log: every change in an org leaves a record (invariant 7).

Changes add their record to the same transaction as the change itself
(``record``); ``write`` is for changes that are a single conditional write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..clock import iso, now, parse_iso
from ..domain.models import Actor, AuditEntry, Page
from ..domain.roles import Permission
from ..secrets import new_id
from ..storage import audit as audit_rows
from ..storage.base import Tx


def build(
    org_id: str,
    actor: Actor,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    audit_id: str | None = None,
) -> AuditEntry:
    """An audit entry; stream handlers pass a time and id derived from the record so a replay rewrites it."""
    return AuditEntry(
        org_id=org_id,
        audit_id=audit_id or new_id("aud"),
        at=parse_iso(iso(at or now())),  # stored to the millisecond: the entry says what is stored
        actor=actor.actor,
        action=action,
        target=target,
        request_id=actor.request_id,
        details=dict(details or {}),
    )


def record(tx: Tx, org_id: str, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Add the audit record of a change to that change's transaction."""
    audit_rows.add_to(tx, build(org_id, actor, action, target, details))


def write(org_id: str, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Write an audit record on its own (for changes outside a transaction)."""
    audit_rows.put(build(org_id, actor, action, target, details))


def list_entries(
    org_id: str,
    caller: Actor,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    read_at_most: int | None = None,
) -> Page:
    """Newest first; ``since`` is a key condition, action/actor/target are filters.

    DynamoDB applies a filter to the items a query has read, so with a filter ``limit``
    counts matches and the query reads on, page after page, until it has them or the
    log ends. ``read_at_most`` bounds the reading instead: one query request that reads
    at most that many entries and returns the matches among them (at most ``limit``),
    with a cursor whenever the log goes on. Only a ``caller`` who may read the audit log
    lists it (404 for strangers, 403 for other roles), like every other service.
    """
    _authorize(org_id, caller)
    return audit_rows.entries(
        org_id,
        action=action,
        actor=actor,
        target=target,
        since=since,
        limit=limit,
        cursor=cursor,
        read_at_most=read_at_most,
    )


def recent_about(
    org_id: str, caller: Actor, target: str, *, shown: int, pages: int, read_each: int
) -> list[AuditEntry]:
    """The newest entries about ``target`` (at most ``shown``) among the log's latest ``pages`` x ``read_each``.

    A DynamoDB filter applies to what a query has read, whoever it is about, so this
    asks for at most ``pages`` query requests instead of reading on through the whole log.
    """
    _authorize(org_id, caller)
    found: list[AuditEntry] = []
    cursor: str | None = None
    for _ in range(pages):
        batch = audit_rows.entries(
            org_id, target=target, limit=shown - len(found), cursor=cursor, read_at_most=read_each
        )
        found += batch.items
        cursor = batch.next_cursor
        if cursor is None or len(found) >= shown:
            break
    return found


def _authorize(org_id: str, caller: Actor) -> None:
    from . import members  # members records audit entries: imported here, not at module load

    members.authorize(org_id, caller, Permission.READ_AUDIT)
