"""Request and response models of the REST API (pydantic).

Requests forbid unknown fields; the same models describe the API in the
OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from ..domain.emails import normalize_email
from ..domain.outcomes import ADD_OUTCOMES, Outcome
from ..domain.roles import Role

NAME_MAX = 200
ID_MAX = 64


class OneOf:
    """``Annotated[SomeStrEnum, OneOf(...)]``: a field of a domain enum that takes only the listed members.

    Documented (and validated) like ``Literal[...]`` of their values, in the
    order given: an inline ``enum``, no shared component, so the OpenAPI
    document says per field exactly what that response can hold.
    """

    def __init__(self, *members: StrEnum) -> None:
        self.values = [m.value for m in members]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(source, core_schema.literal_schema(self.values))


def _email(value: str) -> str:
    return normalize_email(value)


def _no_control_chars(value: str) -> str:
    """The pattern alone lets NUL through (pydantic-core's regex engine), so check here too."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


EMAIL_RULES = (
    "RFC 5321 lengths: local part at most 64, address at most 254 characters; dot-atom local part; "
    "internationalized domains accepted and stored in IDNA (punycode) form; compared case-insensitively."
)
Email = Annotated[
    str,
    Field(min_length=3, max_length=254, description=EMAIL_RULES, json_schema_extra={"format": "idn-email"}),
    AfterValidator(_email),
]
Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"),
    AfterValidator(_no_control_chars),
]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2048)


# --- accounts and keys ---------------------------------------------------


class CreateApiKey(RequestModel):
    name: Name
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="Optional; at most the `API_KEY_MAX_DAYS` setting (365) ahead. Without it the key never expires.",
    )


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    status: str = Field(description="active | expired | revoked")
    created_at: datetime
    expires_at: datetime | None = Field(default=None, description="null: never expires; after it the key gets 401")
    last_used_at: datetime | None = Field(
        default=None, description="Last authenticated request, recorded at most once an hour (so up to an hour old)"
    )
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="The API key. Shown once; store it now.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None


class MembershipOut(BaseModel):
    org_id: str
    org_name: str | None = None
    role: Role
    seat: bool


class MeOut(BaseModel):
    account_id: str
    email: str
    name: str | None = None
    created_at: datetime
    memberships: list[MembershipOut]


# --- organizations ----------------------------------------------------------


class CreateOrg(RequestModel):
    name: Name


class RenameOrg(RequestModel):
    name: Name


class SetCapacity(RequestModel):
    capacity: int = Field(ge=0, le=1_000_000)


class SeatsOut(BaseModel):
    capacity: int
    used: int
    available: int


class OrgOut(BaseModel):
    org_id: str
    name: str
    created_at: datetime
    seats: SeatsOut
    member_count: int
    admin_count: int
    your_role: Role | None = None


# --- members -----------------------------------------------------------------


class AddMember(RequestModel):
    email: Email
    role: Role = Role.MEMBER
    assign_seat: bool = False


class ChangeRole(RequestModel):
    role: Role


class MemberQuery(ListQuery):
    role: Role | None = None
    seat: bool | None = None
    email_prefix: str | None = Field(default=None, min_length=1, max_length=254)


class MemberOut(BaseModel):
    org_id: str
    account_id: str
    email: str
    name: str | None = None
    role: Role
    seat: bool
    seat_assigned_at: datetime | None = None
    joined_at: datetime
    updated_at: datetime


class MemberAdded(BaseModel):
    """A direct add: ``added`` (201) on a verified domain of the org, else ``invited`` / ``already_invited`` (202)."""

    status: Annotated[Outcome, OneOf(*ADD_OUTCOMES)]
    org_id: str
    email: str
    role: Role
    seat: bool = False
    account_id: str | None = Field(default=None, description="Only when added (the email's domain is verified).")
    invitation_id: str | None = Field(default=None, description="Only when invited.")


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None


# --- audit ---------------------------------------------------------------------


class AuditQuery(ListQuery):
    action: str | None = Field(default=None, max_length=100)
    actor: str | None = Field(default=None, max_length=200)
    target: str | None = Field(
        default=None,
        min_length=1,
        max_length=ID_MAX,
        description="Only entries about this target, matched exactly against each entry's `target`: "
        "an account id (members, seats, access tokens), the org id, an invitation id or a SCIM token id.",
    )
    since: datetime | None = None


class AuditEntryOut(BaseModel):
    audit_id: str
    at: datetime
    actor: str
    action: str
    target: str
    request_id: str
    details: dict[str, Any] = Field(default_factory=dict)


class AuditList(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = None


# --- operations ----------------------------------------------------------------


class HealthOut(BaseModel):
    status: str
    tables: dict[str, str]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody
