"""Route registration: one decorator that authenticates, parses and maps errors.

Every REST route is declared with ``api_route``, which records a
``RouteSpec`` (path, method, auth, request/response models, and the one
service-account scope that opens it). The registry drives the
permission-matrix test and the OpenAPI document, so a route cannot exist
without being described. A service account's token is refused (403) on
every route that names no scope, and on one whose scope it lacks.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from ..config import get_settings
from ..domain.errors import InvalidRequest, NotFound, Unauthenticated
from ..domain.models import Actor, Principal
from ..domain.roles import Scope
from ..services import keys, service_accounts
from ..storage.base import key_fits
from .errors import JSON_HEADERS, error_response

AuthMode = Literal["api_key", "optional", "none"]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    name: str
    auth: AuthMode
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Other success statuses with the same response model (e.g. 201 added / 202 invited).
    also: tuple[int, ...] = ()
    errors: tuple[str, ...] = ()
    content_types: tuple[str, ...] = ("application/json",)
    tags: tuple[str, ...] = field(default_factory=tuple)
    # A success body no pydantic model describes: (media type, JSON schema).
    produces: tuple[str, dict[str, Any]] | None = None
    # The service-account scope this route needs; None: service accounts may not call it.
    scope: Scope | None = None


# Filled as the route modules are imported (``lazy_routes`` imports them on first use):
# read it through ``declared_routes()``, which imports them all first.
ROUTES: list[RouteSpec] = []


def declared_routes() -> list[RouteSpec]:
    """Every REST route's spec (for the OpenAPI document and the tests), every route module imported,
    in the route table's order."""
    from ..lazy_routes import import_all, in_table_order

    import_all()
    return in_table_order(ROUTES)


@dataclass
class ApiRequest:
    """What a handler gets: the parsed body and query, the caller, the raw request."""

    raw: Request
    request_id: str
    body: Any = None
    query: Any = None
    principal: Principal | None = None
    # The caller when it is a service account (then ``principal`` is None).
    service_account: Actor | None = None

    @property
    def actor(self) -> Actor:
        if self.service_account is not None:
            return self.service_account
        if self.principal is None:
            raise Unauthenticated()
        return Actor.account(self.principal, self.request_id)

    @property
    def content_type(self) -> str:
        return (self.raw.headers.get("content-type") or "application/json").split(";")[0].strip().lower()


def bearer_secret(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def source_address_of(request: Request) -> str | None:
    """The caller's address as API Gateway saw it (None outside a gateway, e.g. a direct invoke)."""
    identity = (request.context or {}).get("identity") or {}
    address = identity.get("sourceIp") if isinstance(identity, dict) else None
    return str(address) if address else None


def request_id_of(request: Request) -> str:
    context = request.context or {}
    return str(context.get("requestId") or uuid.uuid4())


def parse_json_body(request: Request, model: type[BaseModel]) -> BaseModel:
    body = request.raw_body or b""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > get_settings().max_body_bytes:
        raise InvalidRequest(
            "The request body is too large.",
            details=[
                {"field": "body", "problem": "too_large", "message": f"at most {get_settings().max_body_bytes} bytes"}
            ],
        )
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except ValueError as exc:  # bad UTF-8 or JSON, or an integer of over 4,300 digits (int's limit)
        raise InvalidRequest(
            "The request body is not valid JSON.",
            details=[{"field": "body", "problem": "json_invalid", "message": str(exc)}],
        ) from exc
    except RecursionError as exc:
        raise InvalidRequest(
            "The request body is nested too deeply.",
            details=[{"field": "body", "problem": "json_invalid", "message": "nested too deeply"}],
        ) from exc
    if not isinstance(data, dict):
        raise InvalidRequest(
            "The request body must be a JSON object.", details=[{"field": "body", "problem": "object_expected"}]
        )
    # Strict JSON validation: "5" is not an integer and true is not 1 (lax mode would accept both).
    return model.model_validate_json(raw, strict=True)


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    params = dict(request.query_params or {})
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        from .errors import validation_details

        details = [dict(d, field=f"query.{d['field']}") for d in validation_details(exc)]
        raise InvalidRequest("The query parameters are not valid.", details=details) from exc


def to_response(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204 if status == 200 else status)
    payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    return Response(body=json.dumps(payload), status_code=status, headers=JSON_HEADERS)


def api_route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    auth: AuthMode = "api_key",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    also: tuple[int, ...] = (),
    errors: tuple[str, ...] = (),
    content_types: tuple[str, ...] = ("application/json",),
    parse_body: bool = True,
    produces: tuple[str, dict[str, Any]] | None = None,
    scope: Scope | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a REST route; the handler gets ``(ApiRequest, **path_params)``.

    ``scope``: the service-account scope that opens the route (none: service accounts are refused).
    """

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(
            RouteSpec(
                path=path,
                method=method,
                name=handler.__name__,
                auth=auth,
                summary=summary,
                body=body,
                query=query,
                response=response,
                status=status,
                also=also,
                errors=errors,
                content_types=content_types,
                tags=(handler.__module__.rsplit(".", 1)[-1].removeprefix("routes_"),),
                produces=produces,
                scope=scope,
            )
        )

        @functools.wraps(handler)
        def view(**path_params: str) -> Response:
            request = bp.current_request
            request_id = request_id_of(request)
            try:
                secret = bearer_secret(request)
                principal, service_account = None, None
                if auth != "none" and service_accounts.is_access_token(secret):
                    service_account = service_accounts.authenticate(secret, request_id)
                    service_accounts.require_scope(service_account, scope)
                elif auth == "api_key" or (auth == "optional" and secret):
                    principal = keys.authenticate(secret)
                if not key_fits(*path_params.values()):  # ids are short and never blank
                    raise NotFound()
                api_request = ApiRequest(
                    raw=request, request_id=request_id, principal=principal, service_account=service_account
                )
                if query is not None:
                    api_request.query = parse_query(request, query)
                if body is not None and parse_body:
                    api_request.body = parse_json_body(request, body)
                return to_response(handler(api_request, **path_params), status)
            except Exception as exc:
                return error_response(exc, request_id)

        bp.route(path, methods=[method], content_types=list(content_types))(view)
        return handler

    return decorate
