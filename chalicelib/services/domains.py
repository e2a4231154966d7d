"""Verified domains: an org claims a domain, proves control with a DNS TXT record, releases it.

Claiming stores a random token; the org publishes ``orgs-verification=<token>``
as a TXT record at ``_orgs-challenge.<domain>``. Verifying looks the record up
(dnspython, resolver from the ``DNS_RESOLVER`` setting) and, when it is there,
marks the claim verified and writes the domain's owner mark in one
transaction; the mark's ``attribute_not_exists`` condition means a domain is
verified by at most one org (concurrent verifications: one wins, the other
gets 409 ``domain_taken``). Emails on an org's verified domains may be added
to it directly (``members``, ``onboarding``, SCIM); any other email only by an
invitation its owner accepts (invariant 9).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from ..clock import now
from ..config import get_settings
from ..domain.domains import (
    PENDING,
    VERIFIED,
    DomainClaim,
    challenge_name,
    challenge_value,
    domain_of_email,
    normalize_domain,
)
from ..domain.errors import (
    DnsUnavailable,
    DomainAlreadyClaimed,
    DomainNotVerified,
    DomainTaken,
    NotFound,
)
from ..domain.models import Actor
from ..domain.roles import Permission
from ..storage import domains as claims
from ..storage.base import CancelReason, Tx
from . import audit, members

DNS_TIMEOUT_SECONDS = 5.0
MAX_FOUND_SHOWN = 5


@dataclass(frozen=True)
class Domain:
    org_id: str
    domain: str
    status: str
    record_name: str
    record_value: str
    created_at: datetime | None
    verified_at: datetime | None


def to_domain(claim: DomainClaim) -> Domain:
    return Domain(
        org_id=claim.org_id,
        domain=claim.domain,
        status=claim.status,
        record_name=challenge_name(claim.domain),
        record_value=challenge_value(claim.token),
        created_at=claim.created_at,
        verified_at=claim.verified_at,
    )


# --- DNS -----------------------------------------------------------------------


def resolver_address(setting: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` -> (host, port)."""
    value = setting.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, int(port)
    return value, 53


def lookup_txt(name: str) -> list[str]:
    """The TXT strings at ``name`` (empty when the name or record does not exist).

    Raises DnsUnavailable (503) when the resolver does not answer: that says
    nothing about the record, so it is not a verification failure.
    """
    import dns.exception
    import dns.resolver

    setting = get_settings().dns_resolver
    if setting:
        resolver = dns.resolver.Resolver(configure=False)
        host, port = resolver_address(setting)
        resolver.nameservers = [host]
        resolver.port = port
    else:
        resolver = dns.resolver.Resolver()
    resolver.cache = None
    try:
        answer = resolver.resolve(name, "TXT", lifetime=DNS_TIMEOUT_SECONDS, search=False, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:  # timeout, no nameserver answered, malformed reply
        raise DnsUnavailable() from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


# --- use cases -----------------------------------------------------------------


def claim(org_id: str, actor: Actor, raw_domain: str) -> Domain:
    """Start a claim: a new random token for the TXT challenge (409 when already claimed here)."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_DOMAINS)
    domain = normalize_domain(raw_domain)
    new = DomainClaim(
        org_id=org_id,
        domain=domain,
        status=PENDING,
        token=secrets.token_urlsafe(24),
        claimed_by=actor.actor,
        created_at=now(),
    )
    tx = Tx()
    claims.add_claim_in(tx, new, on_fail=DomainAlreadyClaimed)
    audit.record(tx, org_id, actor, "domain.claimed", domain, {"domain": domain})
    members.caller_still(tx, caller, Permission.MANAGE_DOMAINS)  # a demoted caller gets 403, nothing written
    tx.commit()
    return to_domain(new)


def list_domains(org_id: str, actor: Actor) -> list[Domain]:
    members.authorize(org_id, actor, Permission.MANAGE_DOMAINS)
    return [to_domain(c) for c in claims.claims_of(org_id)]


def _claimed(org_id: str, raw_domain: str) -> DomainClaim:
    held = claims.claim(org_id, normalize_domain(raw_domain))
    if held is None:
        raise NotFound("This organization has not claimed that domain.")
    return held


def verify(org_id: str, actor: Actor, raw_domain: str) -> Domain:
    """Look the TXT challenge up; when found, mark the claim verified and the org the domain's owner."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_DOMAINS)
    held = _claimed(org_id, raw_domain)
    if held.verified:
        return to_domain(held)
    expected = to_domain(held)
    owner = claims.owner_of(held.domain)
    if owner is not None and owner != org_id:
        raise DomainTaken()
    found = lookup_txt(expected.record_name)
    if expected.record_value not in found:
        raise DomainNotVerified(
            f"No TXT record {expected.record_value!r} at {expected.record_name}.",
            details={
                "record_name": expected.record_name,
                "record_type": "TXT",
                "expected_value": expected.record_value,
                "found": found[:MAX_FOUND_SHOWN],
            },
        )
    stamp = now()
    tx = Tx()
    # The ownership first: when another org owns the domain, that is the answer.
    claims.take_ownership_in(tx, org_id, held.domain, stamp, on_fail=DomainTaken)
    claims.mark_verified_in(tx, held, stamp, on_fail=_ClaimChanged)
    audit.record(tx, org_id, actor, "domain.verified", held.domain, {"domain": held.domain})
    members.caller_still(tx, caller, Permission.MANAGE_DOMAINS)  # a demoted caller gets 403, nothing written
    try:
        tx.commit()
    except _ClaimChanged as exc:  # released, re-claimed or verified meanwhile
        again = claims.claim(org_id, held.domain)
        if again is not None and again.verified:
            return to_domain(again)
        raise NotFound("This organization has not claimed that domain.") from exc
    return to_domain(replace(held, status=VERIFIED, verified_at=stamp))


class _ClaimChanged(Exception):
    """The claim being verified is no longer the pending one we read."""


def release(org_id: str, actor: Actor, raw_domain: str) -> None:
    """Drop the claim (and the ownership, when verified); members already added stay."""
    caller = members.authorize(org_id, actor, Permission.MANAGE_DOMAINS)
    held = _claimed(org_id, raw_domain)
    tx = Tx()
    claims.release_in(tx, held, on_fail=_not_claimed)
    audit.record(tx, org_id, actor, "domain.released", held.domain, {"domain": held.domain})
    members.caller_still(tx, caller, Permission.MANAGE_DOMAINS)  # a demoted caller gets 403, nothing written
    tx.commit()


def _not_claimed(_reason: CancelReason) -> Exception:
    return NotFound("This organization has not claimed that domain.")


def is_verified(org_id: str, domain: str) -> bool:
    """Whether ``org_id`` owns ``domain`` (one consistent GetItem of the owner mark)."""
    return claims.owner_of(domain) == org_id


class DomainCheck:
    """Per call cache of "is this email on one of the org's verified domains" (bulk calls)."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self._known: dict[str, bool] = {}

    def __call__(self, email: str) -> bool:
        domain = domain_of_email(email)
        if domain not in self._known:
            self._known[domain] = is_verified(self.org_id, domain)
        return self._known[domain]
