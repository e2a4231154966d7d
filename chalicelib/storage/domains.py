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

This module is the table's repository: services read and write domains only
through its functions, which take and return ``domain.domains.DomainClaim``.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from ..domain.domains import PENDING, VERIFIED, DomainClaim
from .base import Failure, Tx, TxItem, key_fits, register

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


def _claim(item: DomainModel) -> DomainClaim:
    return DomainClaim(
        org_id=item.org_id,
        domain=item.domain,
        status=str(item.status or PENDING),
        token=item.token or "",
        claimed_by=item.claimed_by,
        created_at=item.created_at,
        verified_at=item.verified_at,
    )


def claim(org_id: str, domain: str) -> DomainClaim | None:
    """The org's claim on ``domain`` (a consistent read), or None."""
    if not key_fits(claim_pk(org_id), domain):
        return None
    try:
        return _claim(DomainModel.get(claim_pk(org_id), domain, consistent_read=True))
    except DoesNotExist:
        return None


def claims_of(org_id: str) -> list[DomainClaim]:
    """Every domain the org claims, pending or verified (one consistent Query)."""
    return [_claim(i) for i in DomainModel.query(claim_pk(org_id), consistent_read=True)]


def owner_of(domain: str) -> str | None:
    """The org that verified ``domain`` (one consistent GetItem of the owner mark), or None."""
    if not key_fits(owner_pk(domain)):
        return None
    try:
        return str(DomainModel.get(owner_pk(domain), OWNER_SK, consistent_read=True).org_id)
    except DoesNotExist:
        return None


def add_claim_in(tx: Tx, new: DomainClaim, on_fail: Failure) -> TxItem:
    """Put a new claim in the transaction (``on_fail``: the org already claims the domain)."""
    item = DomainModel(
        claim_pk(new.org_id),
        new.domain,
        org_id=new.org_id,
        domain=new.domain,
        status=new.status,
        token=new.token,
        claimed_by=new.claimed_by,
        created_at=new.created_at,
    )
    return tx.put(item, condition=DomainModel.pk.does_not_exist(), on_fail=on_fail)


def take_ownership_in(tx: Tx, org_id: str, domain: str, at: datetime, on_fail: Failure) -> TxItem:
    """Write the domain's owner mark in the transaction (``on_fail``: another org owns it already)."""
    mark = DomainModel(owner_pk(domain), OWNER_SK, org_id=org_id, domain=domain, verified_at=at)
    return tx.put(mark, condition=DomainModel.pk.does_not_exist(), on_fail=on_fail)


def mark_verified_in(tx: Tx, pending: DomainClaim, at: datetime, on_fail: Failure) -> TxItem:
    """Mark the pending claim verified in the transaction (``on_fail``: it changed since it was read)."""
    return tx.update(
        DomainModel(claim_pk(pending.org_id), pending.domain),
        [DomainModel.status.set(VERIFIED), DomainModel.verified_at.set(at)],
        condition=(DomainModel.status == PENDING) & (DomainModel.token == pending.token),
        on_fail=on_fail,
    )


def release_in(tx: Tx, held: DomainClaim, on_fail: Failure) -> None:
    """Delete the claim as read (and the owner mark, when verified) in the transaction.

    ``on_fail``: the claim was released or claimed again since it was read.
    """
    tx.delete(
        DomainModel(claim_pk(held.org_id), held.domain), condition=DomainModel.token == held.token, on_fail=on_fail
    )
    if held.verified:
        tx.delete(DomainModel(owner_pk(held.domain), OWNER_SK), condition=DomainModel.org_id == held.org_id)
