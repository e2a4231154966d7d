"""Unfiltered SCIM Users pages that read only the page: the org's member counter and a cursor.

``totalResults`` is the org's ``member_count``, kept in the same
transaction as every membership added or removed (services/members.py), so
it is exact without reading the members. The page itself is one Query of
``count`` items in key order (``account_id``), started:

- at the beginning for ``startIndex=1``;
- after the key a cursor remembers for this offset (storage/scim_cursors.py),
  which the previous full page wrote: the sequential walk of an identity
  provider reads each member once, so a full sync is O(members);
- otherwise (a startIndex no page led to) after skipping ``startIndex - 1``
  keys, read keys-only: slower, still exact.

Members added or removed between two pages of a walk (RFC 7644 §3.4.2.4:
paging is not session based, results are not repeatable): the next page
continues after the last member the previous page returned, so every
member present for the whole walk is returned exactly once; one added
meanwhile appears when its key comes after that point, one removed does
not appear again; ``totalResults`` is the count at each page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.models import Model

from ..domain.models import Member
from . import scim_cursors
from .base import key_fits
from .groups import GroupNameModel
from .members import MemberModel, member_of
from .orgs import OrgModel

log = logging.getLogger(__name__)


def member_total(org_id: str) -> int:
    if not key_fits(org_id):
        return 0
    try:
        return int(OrgModel.get(org_id, consistent_read=True, attributes_to_get=["member_count"]).member_count or 0)
    except DoesNotExist:
        return 0


class Listing:
    """One key-ordered listing of an org's partition: the cursor's name and the Query behind it."""

    def __init__(self, name: str, model: type[Model], hash_name: str, range_name: str) -> None:
        self.name, self.model, self.hash_name, self.range_name = name, model, hash_name, range_name

    def read(self, org_id: str, after: str | None, limit: int, keys_only: bool = False) -> Iterator[Any]:
        start = {self.hash_name: {"S": org_id}, self.range_name: {"S": after}} if after is not None else None
        return self.model.query(
            org_id,
            consistent_read=True,
            limit=limit,
            page_size=min(limit, 1000),
            last_evaluated_key=start,
            attributes_to_get=[self.range_name] if keys_only else None,
        )

    def key_of(self, item: Any) -> str:
        return str(getattr(item, self.range_name))


USERS = Listing("users", MemberModel, "org_id", "account_id")
GROUP_NAMES = Listing("groups", GroupNameModel, "org_id", "name_key")


def _remembered(listing: Listing, org_id: str, skip: int) -> str | None:
    """The cursor's key for this offset; a cursor that cannot be read is only a slower page."""
    try:
        return scim_cursors.find(org_id, listing.name, skip)
    except PynamoDBException as exc:
        log.warning("scim cursor unreadable, counting from the start", extra={"error": type(exc).__name__})
        return None


def _skip(listing: Listing, org_id: str, skip: int) -> str | None:
    """The key of the ``skip``-th item in key order (keys only), or None when there are fewer."""
    last = None
    seen = 0
    for item in listing.read(org_id, None, skip, keys_only=True):
        last, seen = listing.key_of(item), seen + 1
    return last if seen == skip else None


def page(listing: Listing, org_id: str, skip: int, count: int) -> list[Any]:
    """The items at 0-based ``skip``..``skip + count - 1`` in key order; a full page leaves a cursor."""
    if count <= 0 or not key_fits(org_id):
        return []
    after: str | None = None
    if skip > 0:
        after = _remembered(listing, org_id, skip) or _skip(listing, org_id, skip)
        if after is None:
            return []
    found = list(listing.read(org_id, after, count))
    if len(found) == count:
        try:
            scim_cursors.remember(org_id, listing.name, skip + count, listing.key_of(found[-1]))
        except PynamoDBException as exc:  # the page is right; the next one only reads more
            log.warning("scim cursor not written", extra={"error": type(exc).__name__})
    return found


def member_page(org_id: str, start_index: int, count: int) -> tuple[int, list[Member]]:
    """(totalResults, the members at 1-based ``start_index``..``start_index + count - 1``)."""
    total = member_total(org_id)
    skip = max(start_index, 1) - 1
    if skip >= total:
        return total, []
    return total, [member_of(i) for i in page(USERS, org_id, skip, count)]


def group_name_page(org_id: str, skip: int, count: int) -> tuple[int, list[str]]:
    """(how many pushed groups, the ids of the groups at 0-based ``skip``.. in name order).

    Groups keep no counter: the total is a COUNT Query of the org's name
    claims (keys of a few dozen bytes), the page reads only its claims.
    """
    if not key_fits(org_id):
        return 0, []
    total = GroupNameModel.count(org_id, consistent_read=True)
    return total, [c.group_id for c in page(GROUP_NAMES, org_id, skip, count)] if skip < total else []
