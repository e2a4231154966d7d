"""Domains table: which org claims which domain, and which org owns a verified one.

Keys: ``pk`` (hash), ``sk`` (range); two kinds of item:
- a claim, ``pk = "org#<org_id>"``, ``sk = "<domain>"``: ``status`` pending or
  verified, the random ``token`` of the DNS TXT challenge (public by design:
  the org publishes it in DNS; it proves nothing anywhere else), who claimed
  it and when, ``verified_at``. Listing an org's domains is one Query.
- the owner mark, ``pk = "owner#<domain>"``, ``sk = "owner"``: ``org_id`` and
  ``verified_at``. Written in the same transaction as the claim's
  verification under ``attribute_not_exists(pk)``, so a domain is verified by
  at most one org, also under concurrent verifications. Whether an email's
  domain is verified by an org is one GetItem of this mark.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from .base import register

OWNER_SK = "owner"


def claim_pk(org_id: str) -> str:
    return f"org#{org_id}"


def owner_pk(domain: str) -> str:
    return f"owner#{domain}"


@register
class DomainModel(Model):
    class Meta:
        base_name = "domains"
        table_name = "domains"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()
    domain = UnicodeAttribute()
    status = UnicodeAttribute(null=True)  # claims: pending | verified
    token = UnicodeAttribute(null=True)  # claims: the TXT challenge's random part
    claimed_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    verified_at = UTCDateTimeAttribute(null=True)
