"""Routes: an org's service accounts and their client secrets (admins only; secrets shown once)."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint
from pydantic import BaseModel, Field, field_validator, model_validator

from ..domain.roles import Scope
from ..services import service_accounts
from .routing import ApiRequest, api_route
from .schemas import Name, RequestModel

bp = Blueprint(__name__)

BASE = "/v1/orgs/{org_id}/service-accounts"
ERRORS = ("not_found", "forbidden")

ScopeList = list[Scope]


class CreateServiceAccount(RequestModel):
    name: Name
    scopes: ScopeList = Field(min_length=1, max_length=len(Scope), description="What the account may do.")


class PatchServiceAccount(RequestModel):
    name: Name | None = None
    scopes: ScopeList | None = Field(default=None, min_length=1, max_length=len(Scope))
    disabled: bool | None = Field(default=None, description="true refuses its tokens and grants at once.")

    @field_validator("name", "scopes", "disabled", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Leave a field out to keep it; null is not a value of any of them."""
        if value is None:
            raise ValueError("must not be null (leave the field out to keep it)")
        return value

    @model_validator(mode="after")
    def _something(self) -> PatchServiceAccount:
        if self.name is None and self.scopes is None and self.disabled is None:
            raise ValueError("give at least one of name, scopes, disabled")
        return self


class SecretOut(BaseModel):
    secret_id: str
    created_at: datetime
    last_used_at: datetime | None = None


class ServiceAccountOut(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    status: str = Field(description="active or disabled")
    disabled_reason: str | None = Field(
        default=None,
        description="maker_removed | maker_demoted when disabled because the admin who created it was "
        "removed or demoted; null when active or disabled by an admin",
    )
    created_at: datetime
    created_by: str | None = None
    updated_at: datetime | None = None
    last_used_at: datetime | None = Field(default=None, description="The latest token grant of any secret.")
    secrets: list[SecretOut]


class ServiceAccountCreated(ServiceAccountOut):
    secret_id: str
    client_secret: str = Field(description="The client secret (oss_...). Shown once; only its hash is kept.")


class SecretCreated(BaseModel):
    client_id: str
    secret_id: str
    client_secret: str = Field(description="The new client secret (oss_...). Shown once.")


class ServiceAccountList(BaseModel):
    items: list[ServiceAccountOut]


def _out(account: service_accounts.ServiceAccount) -> ServiceAccountOut:
    return ServiceAccountOut(
        client_id=account.client_id,
        name=account.name,
        scopes=service_accounts.sorted_scopes(account.scopes),
        status=account.status,
        disabled_reason=account.disabled_reason,
        created_at=account.created_at,
        created_by=account.created_by,
        updated_at=account.updated_at,
        last_used_at=account.last_used_at,
        secrets=[
            SecretOut(secret_id=s.secret_id, created_at=s.created_at, last_used_at=s.last_used_at)
            for s in account.secrets
        ],
    )


@api_route(
    bp,
    BASE,
    "POST",
    summary="Create a service account (its client id and first client secret, shown once)",
    body=CreateServiceAccount,
    response=ServiceAccountCreated,
    status=201,
    errors=ERRORS,
)
def create_service_account(req: ApiRequest, org_id: str) -> ServiceAccountCreated:
    account, secret_id, secret = service_accounts.create(org_id, req.actor, req.body.name, frozenset(req.body.scopes))
    return ServiceAccountCreated(**_out(account).model_dump(), secret_id=secret_id, client_secret=secret)


@api_route(
    bp,
    BASE,
    "GET",
    summary="List the org's service accounts with their secrets' last use (no secrets)",
    response=ServiceAccountList,
    errors=ERRORS,
)
def list_service_accounts(req: ApiRequest, org_id: str) -> ServiceAccountList:
    return ServiceAccountList(items=[_out(a) for a in service_accounts.list_accounts(org_id, req.actor)])


@api_route(
    bp,
    BASE + "/{client_id}",
    "GET",
    summary="Read one service account",
    response=ServiceAccountOut,
    errors=ERRORS,
)
def get_service_account(req: ApiRequest, org_id: str, client_id: str) -> ServiceAccountOut:
    return _out(service_accounts.get(org_id, req.actor, client_id))


@api_route(
    bp,
    BASE + "/{client_id}",
    "PATCH",
    summary="Rename, rescope, disable or enable a service account (its live tokens follow at once)",
    body=PatchServiceAccount,
    response=ServiceAccountOut,
    errors=ERRORS,
)
def patch_service_account(req: ApiRequest, org_id: str, client_id: str) -> ServiceAccountOut:
    b = req.body
    scopes = frozenset(b.scopes) if b.scopes is not None else None
    return _out(service_accounts.update(org_id, req.actor, client_id, name=b.name, scopes=scopes, disabled=b.disabled))


@api_route(
    bp,
    BASE + "/{client_id}",
    "DELETE",
    summary="Delete a service account (its secrets and tokens stop at once)",
    status=204,
    errors=ERRORS,
)
def delete_service_account(req: ApiRequest, org_id: str, client_id: str) -> None:
    service_accounts.delete(org_id, req.actor, client_id)


@api_route(
    bp,
    BASE + "/{client_id}/secrets",
    "POST",
    summary="Add a client secret for rotation (at most two live; shown once)",
    response=SecretCreated,
    status=201,
    errors=(*ERRORS, "secret_limit_reached"),
)
def add_service_account_secret(req: ApiRequest, org_id: str, client_id: str) -> SecretCreated:
    account, secret_id, secret = service_accounts.add_secret(org_id, req.actor, client_id)
    return SecretCreated(client_id=account.client_id, secret_id=secret_id, client_secret=secret)


@api_route(
    bp,
    BASE + "/{client_id}/secrets/{secret_id}",
    "DELETE",
    summary="Delete a client secret (tokens granted with it stop at once)",
    status=204,
    errors=ERRORS,
)
def delete_service_account_secret(req: ApiRequest, org_id: str, client_id: str, secret_id: str) -> None:
    service_accounts.delete_secret(org_id, req.actor, client_id, secret_id)
