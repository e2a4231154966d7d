"""Request and response models of invitations and sign-in links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..domain.invitations import DeliveryStatus, InvitationStatus
from ..domain.outcomes import Outcome
from ..domain.roles import Role
from .schemas import ApiKeyCreated, Email, ListQuery, OneOf, RequestModel

RawEmail = Annotated[str, Field(max_length=1000)]
InvitationId = Annotated[str, Field(min_length=1, max_length=200)]
Status = Annotated[InvitationStatus, OneOf(*InvitationStatus)]


class InviteRequest(RequestModel):
    """JSON invite; a CSV upload (``Content-Type: text/csv``) is the other body of the same call."""

    emails: list[RawEmail] = Field(
        min_length=1,
        description="Up to 1,000 addresses (more: 413 too_many_rows); each is checked on its own "
        "(invalid_email per item).",
        json_schema_extra={"maxItems": 1000},
    )
    role: Role = Role.MEMBER


class InviteResultOut(BaseModel):
    email: str
    status: Annotated[
        Outcome,
        OneOf(
            Outcome.INVITED,
            Outcome.ALREADY_INVITED,
            Outcome.ALREADY_MEMBER,
            Outcome.INVALID_EMAIL,
            Outcome.INVALID_ROLE,
            Outcome.DUPLICATE_IN_REQUEST,
            Outcome.FORBIDDEN,
            Outcome.INVITATION_QUOTA_EXCEEDED,
        ),
    ] = Field(description="forbidden: the caller stopped being an admin during the call (not written)")
    line: int | None = Field(default=None, description="CSV uploads: the line of the file this row starts on.")
    role: Role | None = None
    invitation_id: str | None = None
    account_id: str | None = Field(default=None, description="already_member: the member's account.")
    message: str | None = None
    retry_after: int | None = Field(
        default=None, description="invitation_quota_exceeded: seconds until the daily quota starts again."
    )


class InviteResponse(BaseModel):
    results: list[InviteResultOut]
    summary: dict[str, int]


class InvitationQuery(ListQuery):
    status: Status | None = None


class DeliveryOut(BaseModel):
    status: Annotated[DeliveryStatus, OneOf(*DeliveryStatus)] | None
    error: str | None = None
    sent_at: datetime | None = None


class InvitationOut(BaseModel):
    invitation_id: str
    email: str
    role: Role
    status: Status
    expires_at: datetime | None = None
    issue: int = Field(description="How many times the invitation was issued (1 + reissues).")
    invited_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    revoked_at: datetime | None = None
    delivery: DeliveryOut


class InvitationList(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None = None


class InvitationIds(RequestModel):
    invitation_ids: list[InvitationId] = Field(min_length=1, max_length=1000)


class IdResultOut(BaseModel):
    invitation_id: str
    status: str
    message: str | None = None
    retry_after: int | None = Field(
        default=None,
        description="resend_too_soon / resend_quota_exceeded: seconds until this item may be resent.",
    )


class BulkIdResponse(BaseModel):
    results: list[IdResultOut]
    summary: dict[str, int]


class InvitationPreviewOut(BaseModel):
    invitation_id: str
    org_id: str
    org_name: str | None = None
    email: str
    role: Role
    status: Status
    expires_at: datetime | None = None
    invited_by: str | None = None


class NewApiKeyOut(BaseModel):
    key_id: str
    secret: str = Field(description="The API key of the new account. Shown once; store it now.")


class AcceptedOut(BaseModel):
    org_id: str
    org_name: str | None = None
    account_id: str
    email: str
    role: Role
    account_created: bool
    api_key: NewApiKeyOut | None = Field(default=None, description="Only when the account was created by accepting.")


class LoginLinkRequest(RequestModel):
    email: Email


class LoginLinkAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str = "If an account has this email, a sign-in code is on its way."


class RedeemRequest(RequestModel):
    code: Annotated[str, Field(min_length=1, max_length=200)]


class RedeemedOut(ApiKeyCreated):
    account_id: str
