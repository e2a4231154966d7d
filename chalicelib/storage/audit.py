"""Audit table: the one module that reads and writes audit items.

Keys: ``org_id`` (hash), ``sk`` = ``<ISO time>#<audit id>`` (range), so a
query in reverse gives newest first and ``since`` is a key condition.
Entries go in and come out as domain ``AuditEntry`` records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from ..clock import iso, parse_iso
from ..domain.models import AuditEntry, Page
from .base import Tx, cursor_page, encode_cursor, page, register


@register
class AuditModel(Model):
    class Meta:
        base_name = "audit"
        table_name = "audit"

    org_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    audit_id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    request_id = UnicodeAttribute()
    details = JSONAttribute(null=True)


def _item(entry: AuditEntry) -> AuditModel:
    stamp = iso(entry.at)
    return AuditModel(
        entry.org_id,
        f"{stamp}#{entry.audit_id}",
        audit_id=entry.audit_id,
        at=stamp,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        request_id=entry.request_id,
        details=dict(entry.details) or None,
    )


def _entry(item: AuditModel) -> AuditEntry:
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


def add_to(tx: Tx, entry: AuditEntry) -> None:
    """The entry as a put in a change's own transaction."""
    tx.put(_item(entry))


def put(entry: AuditEntry) -> None:
    """The entry written on its own."""
    _item(entry).save()


def row(entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    """The entry as (table, serialized item), for a batch of idempotent puts."""
    item = _item(entry)
    return item.Meta.table_name, item.serialize()


def entries(
    org_id: str,
    *,
    limit: int,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    read_at_most: int | None = None,
) -> Page:
    """Newest first; ``since`` is a key condition, action/actor/target are filters (see services.audit)."""
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
    return Page(items=[_entry(i) for i in items], next_cursor=next_cursor)


def _one_request(results: ResultIterator[AuditModel], limit: int) -> tuple[list[AuditModel], str | None]:
    """The matches of the query's first request only (its Limit is the page size), at most ``limit``."""
    pages = results.page_iter
    raw = next(pages)
    items = [AuditModel.from_raw_data(item) for item in raw.get("Items", [])]
    if len(items) > limit:
        items = items[:limit]
        return items, encode_cursor({"org_id": {"S": items[-1].org_id}, "sk": {"S": items[-1].sk}})
    return items, encode_cursor(pages.last_evaluated_key)
