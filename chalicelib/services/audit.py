"""Audit log: every change in an org leaves a record (invariant 7).

Changes add their record to the same transaction as the change itself
(``record``); ``write`` is for changes that are a single conditional write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.pagination import ResultIterator

from ..clock import iso, now, parse_iso
from ..domain.models import Actor, AuditEntry, Page
from ..domain.roles import Permission
from ..secrets import new_id
from ..storage.audit import AuditModel
from ..storage.base import Tx, cursor_page, encode_cursor, page


def _model(org_id: str, actor: Actor, action: str, target: str, details: dict[str, Any] | None) -> AuditModel:
    return build(org_id, actor, action, target, details)


def build(
    org_id: str,
    actor: Actor,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    audit_id: str | None = None,
) -> AuditModel:
    """An audit item; stream handlers pass a time and id derived from the record so a replay rewrites it."""
    stamp = iso(at or now())
    audit_id = audit_id or new_id("aud")
    return AuditModel(
        org_id,
        f"{stamp}#{audit_id}",
        audit_id=audit_id,
        at=stamp,
        actor=actor.actor,
        action=action,
        target=target,
        request_id=actor.request_id,
        details=details or None,
    )


def record(tx: Tx, org_id: str, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Add the audit record of a change to that change's transaction."""
    tx.put(_model(org_id, actor, action, target, details))


def write(org_id: str, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Write an audit record on its own (for changes outside a transaction)."""
    _model(org_id, actor, action, target, details).save()


def to_entry(item: AuditModel) -> AuditEntry:
    return AuditEntry(
        org_id=item.org_id,
        audit_id=item.audit_id,
        at=parse_iso(item.at),
        actor=item.actor,
        action=item.action,
        target=item.target,
        request_id=item.request_id,
        details=dict(item.details or {}),
    )


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
    return _query(org_id, action, actor, target, since, limit, cursor, read_at_most)


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
        batch = _query(org_id, None, None, target, None, shown - len(found), cursor, read_each)
        found += batch.items
        cursor = batch.next_cursor
        if cursor is None or len(found) >= shown:
            break
    return found


def _authorize(org_id: str, caller: Actor) -> None:
    from . import members  # members records audit entries: imported here, not at module load

    members.authorize(org_id, caller, Permission.READ_AUDIT)


def _query(
    org_id: str,
    action: str | None,
    actor: str | None,
    target: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
    read_at_most: int | None,
) -> Page:
    condition = AuditModel.sk >= iso(since) if since else None
    filters = None
    for attribute, value in ((AuditModel.action, action), (AuditModel.actor, actor), (AuditModel.target, target)):
        if value:
            matches = attribute == value
            filters = matches if filters is None else filters & matches

    def query(start: dict[str, Any] | None) -> ResultIterator[AuditModel]:
        return AuditModel.query(
            org_id,
            range_key_condition=condition,
            filter_condition=filters,
            scan_index_forward=False,
            limit=limit,
            page_size=read_at_most,
            last_evaluated_key=start,
        )

    def drain(results: ResultIterator[AuditModel]) -> tuple[list[Any], str | None]:
        return page(results) if read_at_most is None else _one_request(results, limit)

    items, next_cursor = cursor_page(cursor, {"org_id": org_id}, ("org_id", "sk"), query, drain)
    return Page(items=[to_entry(i) for i in items], next_cursor=next_cursor)


def _one_request(results: ResultIterator[AuditModel], limit: int) -> tuple[list[AuditModel], str | None]:
    """The matches of the query's first request only (its Limit is the page size), at most ``limit``."""
    pages = results.page_iter
    raw = next(pages)
    items = [AuditModel.from_raw_data(item) for item in raw.get("Items", [])]
    if len(items) > limit:
        items = items[:limit]
        return items, encode_cursor({"org_id": {"S": items[-1].org_id}, "sk": {"S": items[-1].sk}})
    return items, encode_cursor(pages.last_evaluated_key)
