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

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from ..storage import scim_cursors
from ..storage.base import key_fits
from ..storage.members import MemberModel
from ..storage.orgs import OrgModel

log = logging.getLogger(__name__)

LISTING = "users"


def member_total(org_id: str) -> int:
    if not key_fits(org_id):
        return 0
    try:
        return int(OrgModel.get(org_id, consistent_read=True, attributes_to_get=["member_count"]).member_count or 0)
    except DoesNotExist:
        return 0


def _key(org_id: str, account_id: str) -> dict[str, dict[str, str]]:
    return {"org_id": {"S": org_id}, "account_id": {"S": account_id}}


def _remembered(org_id: str, skip: int) -> str | None:
    """The cursor's key for this offset; a cursor that cannot be read is only a slower page."""
    try:
        return scim_cursors.find(org_id, LISTING, skip)
    except PynamoDBException as exc:
        log.warning("scim cursor unreadable, counting from the start: %s", type(exc).__name__)
        return None


def _skip(org_id: str, skip: int) -> str | None:
    """The key of the ``skip``-th member in key order (keys only), or None when there are fewer."""
    last = None
    seen = 0
    for item in MemberModel.query(
        org_id, consistent_read=True, limit=skip, page_size=min(skip, 1000), attributes_to_get=["account_id"]
    ):
        last, seen = item.account_id, seen + 1
    return last if seen == skip else None


def member_page(org_id: str, start_index: int, count: int) -> tuple[int, list[MemberModel]]:
    """(totalResults, the members at 1-based ``start_index``..``start_index + count - 1``)."""
    total = member_total(org_id)
    skip = max(start_index, 1) - 1
    if count <= 0 or skip >= total or not key_fits(org_id):
        return total, []
    after: str | None = None
    if skip > 0:
        after = _remembered(org_id, skip) or _skip(org_id, skip)
        if after is None:
            return total, []
    start_key = _key(org_id, after) if after is not None else None
    page = list(
        MemberModel.query(org_id, consistent_read=True, limit=count, page_size=count, last_evaluated_key=start_key)
    )
    if len(page) == count:
        try:
            scim_cursors.remember(org_id, LISTING, skip + count, page[-1].account_id)
        except PynamoDBException as exc:  # the page is right; the next one only reads more
            log.warning("scim cursor not written: %s", type(exc).__name__)
    return total, page
