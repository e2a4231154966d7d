"""Request and response models of the organization access token routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from .schemas import ID_MAX, ListQuery, Name, RequestModel


class IssueToken(RequestModel):
    name: Name
    expires_at: AwareDatetime | None = Field(default=None, description="Default and maximum: the lifetime settings.")


class RenewToken(RequestModel):
    expires_at: AwareDatetime


class TokenQuery(ListQuery):
    pass


class TokenIssuer(BaseModel):
    kind: Literal["self", "admin"] = Field(description="self: the member issued it; admin: an admin of the org did")
    account_id: str | None = Field(
        default=None, description="The issuing account; null when an org credential (SCIM) issued it"
    )


class TokenOut(BaseModel):
    token_id: str
    org_id: str
    account_id: str
    name: str
    status: str = Field(description="active | expired | revoked")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(
        default=None, description="revoked_by_owner | revoked_by_admin | seat_revoked | member_removed"
    )
    created_by: TokenIssuer | None = Field(default=None, description="Who issued the token; null if not recorded")


class TokenCreated(TokenOut):
    secret: str = Field(description="The access token. Shown once; store it now.")


class TokenList(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None = None


class VerifyToken(RequestModel):
    token: str = Field(max_length=512)
    org_id: str | None = Field(default=None, max_length=ID_MAX)


class VerifyResult(BaseModel):
    """RFC 7662 shape: only ``active`` when the token is not usable."""

    active: bool
    org_id: str | None = None
    account_id: str | None = None
    token_id: str | None = None
    expires_at: datetime | None = None
