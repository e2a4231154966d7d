"""Routes: invitations (admin), the public invitation link, and sign-in links."""

from __future__ import annotations

from chalice import Blueprint

from ..config import get_settings
from ..domain.errors import PayloadTooLarge
from ..domain.invitations import BulkOutcome, Invitation, InviteItem
from ..domain.roles import Scope
from ..services import invitation_accept, invitation_changes, invitation_csv, invitations, login_links
from . import schemas_invitations as s
from .routing import ApiRequest, api_route, parse_json_body, source_address_of

bp = Blueprint(__name__)

ADMIN_ERRORS = ("not_found", "forbidden")


def _invitation(value: Invitation) -> s.InvitationOut:
    return s.InvitationOut(
        invitation_id=value.invitation_id,
        email=value.email,
        role=value.role,
        status=value.status,
        expires_at=value.expires_at,
        issue=value.issue,
        invited_by=value.invited_by,
        created_at=value.created_at,
        updated_at=value.updated_at,
        accepted_at=value.accepted_at,
        accepted_by=value.accepted_by,
        revoked_at=value.revoked_at,
        delivery=s.DeliveryOut(
            status=value.delivery_status,
            error=value.delivery_error,
            sent_at=value.delivered_at,
        ),
    )


def _bulk_ids(outcome: BulkOutcome) -> s.BulkIdResponse:
    return s.BulkIdResponse(
        results=[
            s.IdResultOut(invitation_id=r.invitation_id, status=r.status, message=r.message, retry_after=r.retry_after)
            for r in outcome.results
        ],
        summary=outcome.summary,
    )


def _csv_items(req: ApiRequest) -> list[InviteItem]:
    body = req.raw.raw_body or b""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"At most {get_settings().max_body_bytes} bytes per upload.")
    return [InviteItem(email=r.email, role=r.role, line=r.line) for r in invitation_csv.parse(data)]


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations",
    "POST",
    scope=Scope.INVITATIONS_WRITE,
    summary="Invite one or many (JSON {emails, role?}) or upload a CSV (text/csv: email column, optional role)",
    body=s.InviteRequest,
    response=s.InviteResponse,
    errors=(*ADMIN_ERRORS, "invalid_csv", "too_many_rows", "payload_too_large"),
    content_types=("application/json", "text/csv"),
    parse_body=False,
)
def invite(req: ApiRequest, org_id: str) -> s.InviteResponse:
    if req.content_type == "text/csv":
        outcome = invitations.invite(org_id, req.actor, _csv_items(req), principal=req.principal)
    else:
        body = parse_json_body(req.raw, s.InviteRequest)
        assert isinstance(body, s.InviteRequest)
        outcome = invitations.invite(
            org_id, req.actor, [InviteItem(email=e) for e in body.emails], body.role, principal=req.principal
        )
    return s.InviteResponse(
        results=[s.InviteResultOut.model_validate(r, from_attributes=True) for r in outcome.results],
        summary=outcome.summary,
    )


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations",
    "GET",
    scope=Scope.INVITATIONS_WRITE,
    summary="List invitations (filter: status)",
    query=s.InvitationQuery,
    response=s.InvitationList,
    errors=ADMIN_ERRORS,
)
def list_invitations(req: ApiRequest, org_id: str) -> s.InvitationList:
    q: s.InvitationQuery = req.query
    result = invitations.list_invitations(org_id, req.actor, status=q.status, limit=q.limit, cursor=q.cursor)
    return s.InvitationList(items=[_invitation(i) for i in result.items], next_cursor=result.next_cursor)


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations/resend",
    "POST",
    scope=Scope.INVITATIONS_WRITE,
    summary="Reissue many invitations",
    body=s.InvitationIds,
    response=s.BulkIdResponse,
    errors=ADMIN_ERRORS,
)
def resend_many(req: ApiRequest, org_id: str) -> s.BulkIdResponse:
    return _bulk_ids(invitation_changes.resend_many(org_id, req.actor, req.body.invitation_ids, req.principal))


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations/remove",
    "POST",
    scope=Scope.INVITATIONS_WRITE,
    summary="Remove many invitations",
    body=s.InvitationIds,
    response=s.BulkIdResponse,
    errors=ADMIN_ERRORS,
)
def remove_many(req: ApiRequest, org_id: str) -> s.BulkIdResponse:
    return _bulk_ids(invitation_changes.remove_many(org_id, req.actor, req.body.invitation_ids))


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations/{invitation_id}",
    "GET",
    scope=Scope.INVITATIONS_WRITE,
    summary="One invitation, with its email delivery status",
    response=s.InvitationOut,
    errors=ADMIN_ERRORS,
)
def get_invitation(req: ApiRequest, org_id: str, invitation_id: str) -> s.InvitationOut:
    return _invitation(invitations.get_invitation(org_id, req.actor, invitation_id))


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations/{invitation_id}/resend",
    "POST",
    scope=Scope.INVITATIONS_WRITE,
    summary="Reissue: new link, expires a full period from now, status pending, email sent again",
    response=s.InvitationOut,
    errors=(*ADMIN_ERRORS, "already_accepted", "already_member", "resend_too_soon", "resend_quota_exceeded"),
)
def resend(req: ApiRequest, org_id: str, invitation_id: str) -> s.InvitationOut:
    return _invitation(invitation_changes.resend(org_id, req.actor, invitation_id, req.principal))


@api_route(
    bp,
    "/v1/orgs/{org_id}/invitations/{invitation_id}",
    "DELETE",
    scope=Scope.INVITATIONS_WRITE,
    summary="Remove an invitation: its link stops working",
    status=204,
    errors=(*ADMIN_ERRORS, "already_accepted"),
)
def remove(req: ApiRequest, org_id: str, invitation_id: str) -> None:
    invitation_changes.remove(org_id, req.actor, invitation_id)


@api_route(
    bp,
    "/v1/invitations/{invitation_token}",
    "GET",
    summary="Public preview of an invitation (the link is the credential)",
    auth="none",
    response=s.InvitationPreviewOut,
    errors=("not_found", "invitation_expired", "invitation_revoked", "already_accepted"),
)
def preview(req: ApiRequest, invitation_token: str) -> s.InvitationPreviewOut:
    p = invitation_accept.preview(invitation_token)
    i = p.invitation
    return s.InvitationPreviewOut(
        invitation_id=i.invitation_id,
        org_id=i.org_id,
        org_name=p.org_name,
        email=i.email,
        role=i.role,
        status=i.status,
        expires_at=i.expires_at,
        invited_by=p.inviter,
    )


@api_route(
    bp,
    "/v1/invitations/{invitation_token}/accept",
    "POST",
    summary="Accept: joins the account with the invited email, creating it (and a first API key) when absent",
    auth="optional",
    response=s.AcceptedOut,
    errors=(
        "not_found",
        "invitation_expired",
        "invitation_revoked",
        "already_accepted",
        "already_member",
        "email_mismatch",
        "unauthenticated",
    ),
)
def accept(req: ApiRequest, invitation_token: str) -> s.AcceptedOut:
    a = invitation_accept.accept(invitation_token, req.principal, req.request_id)
    return s.AcceptedOut(
        org_id=a.org_id,
        org_name=a.org_name,
        account_id=a.account_id,
        email=a.email,
        role=a.role,
        account_created=a.account_created,
        api_key=s.NewApiKeyOut(key_id=a.api_key[0], secret=a.api_key[1]) if a.api_key else None,
    )


@api_route(
    bp,
    "/v1/auth/login-link",
    "POST",
    summary="Email a one-time sign-in code if an account has this email (always 202)",
    auth="none",
    body=s.LoginLinkRequest,
    response=s.LoginLinkAccepted,
    status=202,
    errors=("too_many_sign_in_requests",),
)
def login_link(req: ApiRequest) -> s.LoginLinkAccepted:
    login_links.request_link(req.body.email, source_address_of(req.raw))
    return s.LoginLinkAccepted()


@api_route(
    bp,
    "/v1/auth/login-link/redeem",
    "POST",
    summary="Exchange a sign-in code for a new API key (shown once)",
    auth="none",
    body=s.RedeemRequest,
    response=s.RedeemedOut,
    status=201,
    errors=("invalid_code",),
)
def redeem_login_link(req: ApiRequest) -> s.RedeemedOut:
    r = login_links.redeem(req.body.code)
    k = r.key
    return s.RedeemedOut(
        key_id=k.key_id,
        name=k.name,
        status=k.status,
        created_at=k.created_at,
        secret=r.secret,
        account_id=r.account_id,
    )
