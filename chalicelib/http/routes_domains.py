"""Routes: an org's domains (claim, list, verify by DNS TXT, release; admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from chalice import Blueprint
from pydantic import BaseModel, Field

from ..services import domains
from .routing import ApiRequest, api_route
from .schemas import RequestModel

bp = Blueprint(__name__)


class ClaimDomain(RequestModel):
    domain: str = Field(
        min_length=1,
        max_length=300,
        description="A domain name; stored lower-case, IDNA (punycode), without a trailing dot.",
    )


class DnsRecord(BaseModel):
    name: str = Field(description="Where to publish the record, e.g. _orgs-challenge.acme.example")
    type: Literal["TXT"] = "TXT"
    value: str


class DomainOut(BaseModel):
    domain: str
    status: Literal["pending", "verified"]
    record: DnsRecord = Field(description="The DNS TXT record that proves control of the domain.")
    created_at: datetime | None = None
    verified_at: datetime | None = None


class DomainList(BaseModel):
    items: list[DomainOut]


def _out(domain: domains.Domain) -> DomainOut:
    return DomainOut(
        domain=domain.domain,
        status=domain.status,  # type: ignore[arg-type]
        record=DnsRecord(name=domain.record_name, value=domain.record_value),
        created_at=domain.created_at,
        verified_at=domain.verified_at,
    )


@api_route(
    bp,
    "/v1/orgs/{org_id}/domains",
    "POST",
    summary="Claim a domain: answers the DNS TXT record to publish, then verify",
    body=ClaimDomain,
    response=DomainOut,
    status=201,
    errors=("not_found", "forbidden", "invalid_domain", "domain_already_claimed", "conflict"),
)
def claim_domain(req: ApiRequest, org_id: str) -> DomainOut:
    return _out(domains.claim(org_id, req.actor, req.body.domain))


@api_route(
    bp,
    "/v1/orgs/{org_id}/domains",
    "GET",
    summary="The org's domains with their status and TXT challenge",
    response=DomainList,
    errors=("not_found", "forbidden"),
)
def list_domains(req: ApiRequest, org_id: str) -> DomainList:
    return DomainList(items=[_out(d) for d in domains.list_domains(org_id, req.actor)])


@api_route(
    bp,
    "/v1/orgs/{org_id}/domains/{domain}/verify",
    "POST",
    summary="Look the TXT challenge up in DNS; when found the domain is verified for this org",
    response=DomainOut,
    errors=(
        "not_found",
        "forbidden",
        "invalid_domain",
        "domain_not_verified",
        "domain_taken",
        "dns_unavailable",
        "conflict",
    ),
)
def verify_domain(req: ApiRequest, org_id: str, domain: str) -> DomainOut:
    return _out(domains.verify(org_id, req.actor, domain))


@api_route(
    bp,
    "/v1/orgs/{org_id}/domains/{domain}",
    "DELETE",
    summary="Release a domain (members already added stay)",
    status=204,
    errors=("not_found", "forbidden", "invalid_domain", "conflict"),
)
def release_domain(req: ApiRequest, org_id: str, domain: str) -> None:
    domains.release(org_id, req.actor, domain)
