"""SCIM list cursors (no stream; TTL on ``expires_ttl``): where the next sequential page starts.

SCIM pages by offset (``startIndex``), DynamoDB by key. Identity providers
read a listing page after page (startIndex 1, 1+count, 1+2*count...), so
after each full page we remember the key of its last item under the offset
the next page asks for; that page then starts its Query right there and
reads only its own items, so a full sync reads each member once.

Keys: ``cursor_id`` (hash): ``<org_id>#<listing>#<offset>``, e.g.
``org_123#users#100``: the listing's ``offset``-th item is ``last_key``
(the members' range key, ``account_id``). A cursor is only a shortcut:
lost, expired or unreadable, the page counts from the start instead.
DynamoDB TTL deletes old items; an expired one not yet deleted is ignored.
"""

from __future__ import annotations

import time

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from .base import key_fits, register

# A sync runs for minutes; a cursor outliving that would only take space.
CURSOR_SECONDS = 15 * 60


def cursor_id(org_id: str, listing: str, offset: int) -> str:
    return f"{org_id}#{listing}#{offset}"


@register
class ScimCursorModel(Model):
    class Meta:
        base_name = "scim_cursors"
        table_name = "scim_cursors"
        ttl_attribute = "expires_ttl"

    cursor_id = UnicodeAttribute(hash_key=True)
    last_key = UnicodeAttribute()
    expires_ttl = NumberAttribute()


def find(org_id: str, listing: str, offset: int) -> str | None:
    """The range key of the listing's ``offset``-th item, if a live cursor remembers it."""
    key = cursor_id(org_id, listing, offset)
    if not key_fits(key):
        return None
    try:
        item = ScimCursorModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None
    return item.last_key if int(item.expires_ttl) > time.time() else None


def remember(org_id: str, listing: str, offset: int, last_key: str) -> None:
    """Remember that the listing's ``offset``-th item is ``last_key`` (overwrites: the newest read wins)."""
    key = cursor_id(org_id, listing, offset)
    if key_fits(key, last_key):
        ScimCursorModel(key, last_key=last_key, expires_ttl=int(time.time()) + CURSOR_SECONDS).save()
