"""Routes: seats (one and many) and bulk onboarding."""

from __future__ import annotations

from chalice import Blueprint

from ..clock import iso
from ..domain.outcomes import tally
from ..domain.roles import Scope
from ..services import onboarding, seats
from . import present, schemas, schemas_seats
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/seat",
    "POST",
    scope=Scope.SEATS_WRITE,
    summary="Assign a seat; emails the member a link to the token page (unless notify=false)",
    query=schemas_seats.AssignSeatQuery,
    response=schemas.MemberOut,
    errors=("not_found", "forbidden", "seat_limit_reached", "seat_already_assigned", "conflict"),
)
def assign_seat(req: ApiRequest, org_id: str, account_id: str) -> schemas.MemberOut:
    return present.member(seats.assign(org_id, req.actor, account_id, notify=req.query.notify))


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/{account_id}/seat",
    "DELETE",
    scope=Scope.SEATS_WRITE,
    summary="Revoke a seat, keep the membership; the member's tokens stop working at once",
    status=204,
    errors=("not_found", "forbidden", "no_seat", "conflict"),
)
def revoke_seat(req: ApiRequest, org_id: str, account_id: str) -> None:
    seats.revoke(org_id, req.actor, account_id)


def _bulk_result(results: list[seats.BulkResult]) -> schemas_seats.BulkSeatResult:
    return schemas_seats.BulkSeatResult(
        items=[schemas_seats.BulkSeatItem(account_id=r.account_id, status=r.status) for r in results],
        summary=tally(results),
    )


@api_route(
    bp,
    "/v1/orgs/{org_id}/seats/assign",
    "POST",
    scope=Scope.SEATS_WRITE,
    summary="Assign seats in input order until they run out",
    body=schemas_seats.BulkAssignSeats,
    response=schemas_seats.BulkSeatResult,
    errors=("not_found", "forbidden"),
)
def assign_seats(req: ApiRequest, org_id: str) -> schemas_seats.BulkSeatResult:
    b: schemas_seats.BulkAssignSeats = req.body
    return _bulk_result(seats.assign_many(org_id, req.actor, b.account_ids, notify=b.notify))


@api_route(
    bp,
    "/v1/orgs/{org_id}/seats/revoke",
    "POST",
    scope=Scope.SEATS_WRITE,
    summary="Revoke many seats",
    body=schemas_seats.BulkSeats,
    response=schemas_seats.BulkSeatResult,
    errors=("not_found", "forbidden"),
)
def revoke_seats(req: ApiRequest, org_id: str) -> schemas_seats.BulkSeatResult:
    return _bulk_result(seats.revoke_many(org_id, req.actor, req.body.account_ids))


def _onboarded(result: onboarding.Onboarded) -> schemas_seats.OnboardItem:
    token = None
    if result.token is not None and result.secret is not None:
        token = schemas_seats.OnboardedToken(
            token_id=result.token.token_id,
            name=result.token.name,
            expires_at=iso(result.token.expires_at),
            secret=result.secret,
        )
    return schemas_seats.OnboardItem(
        email=result.email,
        status=result.status,
        account_id=result.account_id,
        seat=result.seat,
        token=token,
        retry_after=result.retry_after,
    )


@api_route(
    bp,
    "/v1/orgs/{org_id}/members/onboard",
    "POST",
    scope=Scope.MEMBERS_WRITE,
    summary="Bulk onboarding: add users, seat them while seats last, optionally issue one token each",
    body=schemas_seats.Onboard,
    response=schemas_seats.OnboardResult,
    errors=("not_found", "forbidden"),
)
def onboard(req: ApiRequest, org_id: str) -> schemas_seats.OnboardResult:
    b: schemas_seats.Onboard = req.body
    token = onboarding.TokenRequest(b.issue_token.name, b.issue_token.expires_at) if b.issue_token else None
    results = onboarding.onboard(org_id, req.actor, b.emails, b.role, token)
    return schemas_seats.OnboardResult(items=[_onboarded(r) for r in results], summary=tally(results))
