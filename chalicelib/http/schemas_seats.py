"""Request and response models of the seat and onboarding routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from ..domain.roles import Role
from .schemas import ID_MAX, Name, QueryModel, RequestModel

BULK_MAX = 500

AccountId = Annotated[str, Field(min_length=1, max_length=ID_MAX)]


class AssignSeatQuery(QueryModel):
    notify: bool = Field(default=True, description="Email the member a link to the token page.")


class BulkSeats(RequestModel):
    account_ids: list[AccountId] = Field(min_length=1, max_length=BULK_MAX)


class BulkAssignSeats(BulkSeats):
    notify: bool = True


class BulkSeatItem(BaseModel):
    account_id: str
    status: str = Field(
        description="assigned | already_assigned | not_member | seat_limit_reached | revoked | no_seat | forbidden"
    )


class BulkSeatResult(BaseModel):
    items: list[BulkSeatItem]
    summary: dict[str, int]


class OnboardToken(RequestModel):
    name: Name
    expires_at: AwareDatetime | None = None


class Onboard(RequestModel):
    emails: list[Annotated[str, Field(max_length=320)]] = Field(min_length=1, max_length=BULK_MAX)
    role: Role = Role.MEMBER
    issue_token: OnboardToken | None = None


class OnboardedToken(BaseModel):
    token_id: str
    name: str
    expires_at: str
    secret: str = Field(description="The access token. Shown once; store it now.")


class OnboardItem(BaseModel):
    email: str
    status: str = Field(
        description="onboarded | already_member | invalid_email | seat_limit_reached (added without seat)"
        " | invited / already_invited (the email is not on a verified domain of the org: invited instead)"
        " | duplicate_in_request | conflict (kept losing races: retry this email)"
        " | forbidden (the caller stopped being an admin during the call)"
        " | invitation_quota_exceeded (an invitation over a daily quota: not sent; see retry_after)"
    )
    account_id: str | None = Field(default=None, description="Only for emails on the org's verified domains.")
    seat: bool = False
    token: OnboardedToken | None = None
    retry_after: int | None = Field(
        default=None, description="invitation_quota_exceeded: seconds until the daily quota starts again."
    )


class OnboardResult(BaseModel):
    items: list[OnboardItem]
    summary: dict[str, int]
