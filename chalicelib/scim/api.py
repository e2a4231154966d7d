"""SCIM request handling: authenticate the org's token, parse, call the SCIM services, answer.

Only SCIM routes import this module (and with it scim2-models), so the REST
API's cold start does not pay for it. Every handler runs inside
``dispatch``, which maps every failure in one place (``errors``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Response
from chalice.app import Request
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Group,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    Meta,
    NotFoundException,
    Patch,
    ResourceType,
    ResponseParameters,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    User,
)

from ..config import get_settings
from ..domain.errors import MethodNotAllowed
from ..domain.models import Actor
from ..domain.roles import Permission
from ..http.routing import bearer_secret, request_id_of
from ..services import members, scim_tokens
from . import groups, resources, users
from .errors import error_response, scim_response
from .filters import has_lone_surrogate

# What identity providers send beyond the strict reading of the RFCs: attributes we do not
# define (dropped), Entra ID's PATCH remove with a value, and its replace of
# emails[type eq "work"].value on a user without that entry (creates it).
IDP_POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
MAX_RESULTS = 200
DEFAULT_COUNT = 100


@dataclass
class ScimRequest:
    raw: Request
    request_id: str
    actor: Actor
    base_url: str

    @property
    def org_id(self) -> str:
        return self.actor.scope_org or ""

    @property
    def if_match(self) -> str | None:
        return self.raw.headers.get("if-match")

    def param(self, name: str) -> str | None:
        params: dict[str, Any] = dict(self.raw.query_params or {})
        for key, value in params.items():
            if key.lower() == name.lower():
                return str(value)
        return None

    def body(self) -> dict[str, Any]:
        raw = self.raw.raw_body or b""
        data = raw.encode() if isinstance(raw, str) else raw
        if len(data) > get_settings().max_body_bytes:
            raise InvalidSyntaxException(detail="The request body is too large.")
        try:
            parsed = json.loads(data.decode("utf-8"), parse_constant=_not_json) if data.strip() else None
        except ValueError as exc:  # bad UTF-8, bad JSON, NaN, an integer of over 4,300 digits
            raise InvalidSyntaxException(detail=f"The request body is not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise InvalidSyntaxException(detail=TOO_DEEP) from exc
        if not isinstance(parsed, dict):
            raise InvalidSyntaxException(detail="The request body must be a JSON object.")
        check_body_values(parsed)
        return parsed


def _not_json(name: str) -> Any:
    """NaN and Infinity: Python's json reads them, RFC 8259 has no such values."""
    raise ValueError(f"{name} is not a JSON value")


MAX_BODY_DEPTH = 32
TOO_DEEP = f"The request body nests more than {MAX_BODY_DEPTH} levels of objects and arrays."


def check_body_values(body: dict[str, Any]) -> None:
    """Refuse deep nesting and lone surrogates before scim2-models (recursive) or storage sees them.

    SCIM payloads nest about five levels (PatchOp > Operations > value >
    emails > entry); deeper ones only exhaust the stack of recursive code.
    A lone surrogate (JSON ``"\\ud800"``) is no Unicode text: DynamoDB
    cannot store it and the REST API refuses it, so SCIM does too.
    """
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if has_lone_surrogate(value):
                raise InvalidValueException(detail="A string in the request holds an unpaired UTF-16 surrogate.")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_BODY_DEPTH:
            raise InvalidSyntaxException(detail=TOO_DEEP)
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children)


def base_url() -> str:
    """The SCIM base URL of every ``meta.location`` and ``Location``: the configured public base
    URL, never the request's ``Host`` or ``X-Forwarded-Proto`` (which any client can forge)."""
    return f"{get_settings().public_base_url.rstrip('/')}/scim/v2"


def dispatch(name: str, request: Request, params: dict[str, str]) -> Response:
    """Run the named handler for an authenticated SCIM request, mapping any failure."""
    request_id = request_id_of(request)
    try:
        actor, maker = scim_tokens.authenticate_with_maker(bearer_secret(request), request_id)
        # Every admin write of the call checks, in its transaction, that the maker still may manage SCIM.
        with IDP_POLICY, members.backed_by(maker, Permission.MANAGE_SCIM):
            return HANDLERS[name](ScimRequest(request, request_id, actor, base_url()), **params)
    except Exception as exc:
        return error_response(exc, request_id)


# --- shaping -------------------------------------------------------------------


def _response_parameters(req: ScimRequest, body: dict[str, Any] | None = None) -> ResponseParameters[Any]:
    source = body or {}
    attributes = source.get("attributes") if body is not None else req.param("attributes")
    excluded = source.get("excludedAttributes") if body is not None else req.param("excludedAttributes")
    return ResponseParameters.model_validate({"attributes": attributes, "excludedAttributes": excluded})


def _int_param(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: 1e999 reads as infinity
        raise InvalidSyntaxException(detail=f"{name} must be an integer.") from exc


def _paging(source: dict[str, Any]) -> tuple[int, int]:
    start = max(_int_param(source.get("startIndex"), "startIndex", 1), 1)
    count = min(max(_int_param(source.get("count"), "count", DEFAULT_COUNT), 0), MAX_RESULTS)
    return start, count


def _resource(resource: Any, status: int, params: ResponseParameters[Any], location: bool = False) -> Response:
    body = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=params)
    headers = {}
    if resource.meta and resource.meta.version:
        headers["ETag"] = resource.meta.version
    if location and resource.meta and resource.meta.location:
        headers["Location"] = resource.meta.location
    return scim_response(body, status, headers)


def _list(model: Any, total: int, start: int, items: list[Any], params: ResponseParameters[Any]) -> Response:
    listing = ListResponse[model](total_results=total, start_index=start, items_per_page=len(items), resources=items)
    return scim_response(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params), 200)


# --- discovery -----------------------------------------------------------------


def service_provider_config(req: ScimRequest) -> Response:
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme.model_validate(
                {
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "An org's SCIM token (osc_...) in the Authorization header: Bearer osc_...",
                    "primary": True,
                }
            )
        ],
    )
    config.meta = Meta(resource_type="ServiceProviderConfig", location=f"{req.base_url}/ServiceProviderConfig")
    return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE), 200)


def list_resource_types(req: ScimRequest) -> Response:
    found = resources.resource_types(req.base_url)
    return _list(ResourceType, len(found), 1, found, ResponseParameters())


def get_resource_type(req: ScimRequest, type_id: str) -> Response:
    for resource_type in resources.resource_types(req.base_url):
        if resource_type.id == type_id:
            return _resource(resource_type, 200, ResponseParameters())
    raise NotFoundException(detail=f"No resource type {type_id!r}.")


def _schemas(req: ScimRequest) -> list[Schema]:
    found = resources.schemas()
    for schema in found:
        schema.meta = Meta(resource_type="Schema", location=f"{req.base_url}/Schemas/{schema.id}")
    return found


def list_schemas(req: ScimRequest) -> Response:
    found = _schemas(req)
    return _list(Schema, len(found), 1, found, ResponseParameters())


def get_schema(req: ScimRequest, schema_id: str) -> Response:
    for schema in _schemas(req):
        if schema.id == schema_id:
            return _resource(schema, 200, ResponseParameters())
    raise NotFoundException(detail=f"No schema {schema_id!r}.")


def method_not_allowed(req: ScimRequest, **_: str) -> Response:
    raise MethodNotAllowed("Discovery endpoints are read-only.")


def not_found(req: ScimRequest, **_: str) -> Response:
    raise NotFoundException(detail="No such SCIM endpoint.")


def search_everything(req: ScimRequest) -> Response:
    """POST /.search: Users then Groups, one filter evaluated on each (RFC 7644 §3.4.3).

    Each search gets only its share of the page, so Users read what GET
    /Users would (one Query for a userName filter, only the page turned into
    resources), and Groups load members only when groups are on the page.
    """
    body = req.body()
    start, count = _paging(body)
    params = _response_parameters(req, body)
    found_users = users.search(req.org_id, req.base_url, body.get("filter"), start, count)
    rest = count - len(found_users.users)
    found_groups = groups.search(
        req.org_id,
        req.base_url,
        body.get("filter"),
        max(start - found_users.total, 1),
        rest,
        _wants_members(params) and rest > 0,
    )
    page: list[Any] = [*found_users.users, *found_groups.groups]
    return _list(User | Group, found_users.total + found_groups.total, start, page, params)


# --- users ---------------------------------------------------------------------


def list_users(req: ScimRequest) -> Response:
    start, count = _paging({"startIndex": req.param("startIndex"), "count": req.param("count")})
    params = _response_parameters(req)
    found = users.search(req.org_id, req.base_url, req.param("filter"), start, count)
    return _list(User, found.total, found.start_index, found.users, params)


def search_users(req: ScimRequest) -> Response:
    body = req.body()
    start, count = _paging(body)
    found = users.search(req.org_id, req.base_url, body.get("filter"), start, count)
    return _list(User, found.total, found.start_index, found.users, _response_parameters(req, body))


def create_user(req: ScimRequest) -> Response:
    user = users.create(req.org_id, req.actor, req.base_url, req.body())
    return _resource(user, 201, ResponseParameters(), location=True)


def get_user(req: ScimRequest, user_id: str) -> Response:
    return _resource(users.get(req.org_id, user_id, req.base_url), 200, _response_parameters(req))


def replace_user(req: ScimRequest, user_id: str) -> Response:
    user = users.replace(req.org_id, req.actor, req.base_url, user_id, req.body(), req.if_match)
    return _resource(user, 200, ResponseParameters())


def patch_user(req: ScimRequest, user_id: str) -> Response:
    user = users.patch(req.org_id, req.actor, req.base_url, user_id, req.body(), req.if_match)
    return _resource(user, 200, ResponseParameters())


def delete_user(req: ScimRequest, user_id: str) -> Response:
    users.delete(req.org_id, req.actor, req.base_url, user_id, req.if_match)
    return scim_response(None, 204)


# --- groups --------------------------------------------------------------------


def _wants_members(params: ResponseParameters[Any]) -> bool:
    if params.excluded_attributes and any(str(a).lower().endswith("members") for a in params.excluded_attributes):
        return False
    if params.attributes:
        return any("members" in str(a).lower() for a in params.attributes)
    return True


def list_groups(req: ScimRequest) -> Response:
    start, count = _paging({"startIndex": req.param("startIndex"), "count": req.param("count")})
    params = _response_parameters(req)
    found = groups.search(req.org_id, req.base_url, req.param("filter"), start, count, _wants_members(params))
    return _list(Group, found.total, found.start_index, found.groups, params)


def search_groups(req: ScimRequest) -> Response:
    body = req.body()
    start, count = _paging(body)
    params = _response_parameters(req, body)
    found = groups.search(req.org_id, req.base_url, body.get("filter"), start, count, _wants_members(params))
    return _list(Group, found.total, found.start_index, found.groups, params)


def get_group(req: ScimRequest, group_id: str) -> Response:
    params = _response_parameters(req)
    return _resource(groups.get(req.org_id, group_id, req.base_url, _wants_members(params)), 200, params)


def patch_group(req: ScimRequest, group_id: str) -> Response:
    group = groups.patch(req.org_id, req.actor, req.base_url, group_id, req.body(), req.if_match)
    return _resource(group, 200, ResponseParameters())


def replace_group(req: ScimRequest, group_id: str) -> Response:
    group = groups.replace(req.org_id, req.actor, req.base_url, group_id, req.body(), req.if_match)
    return _resource(group, 200, ResponseParameters())


def create_group(req: ScimRequest) -> Response:
    group = groups.create(req.org_id, req.actor, req.base_url, req.body())
    return _resource(group, 201, ResponseParameters(), location=True)


def delete_group(req: ScimRequest, group_id: str) -> Response:
    groups.delete(req.org_id, req.actor, req.base_url, group_id, req.if_match)
    return scim_response(None, 204)


HANDLERS: dict[str, Callable[..., Response]] = {
    f.__name__: f
    for f in (
        service_provider_config,
        list_resource_types,
        get_resource_type,
        list_schemas,
        get_schema,
        method_not_allowed,
        not_found,
        search_everything,
        list_users,
        search_users,
        create_user,
        get_user,
        replace_user,
        patch_user,
        delete_user,
        list_groups,
        search_groups,
        get_group,
        patch_group,
        replace_group,
        create_group,
        delete_group,
    )
}
