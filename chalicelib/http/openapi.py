"""The OpenAPI 3.1 document, generated from the route registry and its pydantic models.

Nothing here is written by hand per route: paths, parameters, bodies,
responses and error codes all come from the ``RouteSpec`` each route
declared with ``api_route``, so the document cannot drift from the code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..config import get_settings
from ..domain.errors import all_error_types
from ..storage.base import MAX_KEY_BYTES
from . import schemas
from .routing import RouteSpec, declared_routes

REF = "#/components/schemas/{model}"
FORM = "application/x-www-form-urlencoded"
OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "enum": [
                "invalid_request",
                "invalid_client",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
            ]
        },
        "error_description": {"type": "string"},
    },
}
_PATH_PARAM = re.compile(r"{([^}]+)}")


# Answered by API Gateway (stage throttling, deploy/build_template.py), not by the function.
RATE_LIMITED = "rate_limited"
RATE_LIMIT_TEXT = (
    "API Gateway stage throttling (token bucket per stage: steady rate `ApiThrottlingRateLimit`, "
    "burst `ApiThrottlingBurstLimit`; template parameters, defaults 50 rps / 100; `/v1/tokens/verify` has its own "
    "bucket), or a per-source-address WAF rule on the unauthenticated routes (no `Retry-After`: retry after "
    "a few minutes). Wait for `Retry-After` seconds, then retry with backoff."
)
LIMITS_TEXT = (
    "Request limits: JSON bodies at most {max_body} bytes (larger: 400 `invalid_request`, problem `too_large`); "
    "CSV uploads at most {max_body} bytes (larger: 413 `payload_too_large`) and 1,000 rows; list sizes, "
    "string lengths and email syntax are in each schema (emails: RFC 5321 lengths, IDN domains accepted)."
)


def _error_statuses() -> dict[str, int]:
    return {cls.code: cls.status for cls in all_error_types()}


def route_errors(route: RouteSpec) -> dict[int, list[str]]:
    """Documented error codes of a route, grouped by status (the route's own plus the framework's)."""
    statuses = _error_statuses()
    codes = list(route.errors)
    if route.body is not None or route.query is not None or _PATH_PARAM.search(route.path):
        codes.append("invalid_request")
    if route.auth == "api_key":
        codes.append("unauthenticated")
    if route.method != "GET":
        # A write whose transaction keeps losing a race (TransactionConflict) after retries.
        codes.append("conflict")
    # Chalice checks Content-Type on every route (framework.py puts its 415 in our envelope).
    codes += ["unsupported_media_type", "service_unavailable"]
    grouped: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        grouped.setdefault(statuses[code], []).append(code)
    return grouped


def _error_schema(codes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "allOf": [{"$ref": REF.format(model="ErrorBody")}],
                "properties": {"code": {"enum": codes}},
            }
        },
    }


def _error_response(codes: list[str], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description + " Codes: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": {"application/json": {"schema": _error_schema(codes)}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.get("$defs", {}).items():
        defs.setdefault(name, sub)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _request_body(route: RouteSpec) -> dict[str, Any]:
    assert route.body is not None
    max_body = get_settings().max_body_bytes
    schema = {"$ref": REF.format(model=route.body.__name__)}
    # A form route (the OAuth token endpoint) documents its fields as the form's.
    media = "application/x-www-form-urlencoded" if FORM in route.content_types else "application/json"
    content: dict[str, Any] = {media: {"schema": schema}}
    if "text/csv" in route.content_types:
        content["text/csv"] = {
            "schema": {
                "type": "string",
                "maxLength": max_body,
                "description": "UTF-8 CSV (BOM allowed) with a header row: an `email` column and an optional "
                f"`role` column; at most 1,000 data rows and {max_body} bytes.",
            },
            "example": "email,role\nada@example.com,member\n",
        }
    return {
        "required": True,
        "description": f"At most {max_body} bytes.",
        "content": content,
    }


def _operation(route: RouteSpec, defs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": list(route.tags) or ["service"],
    }
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": f"Opaque id (blank or longer than {MAX_KEY_BYTES} bytes: 404).",
            "schema": {"type": "string", "minLength": 1},
        }
        for name in _PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        params += _query_parameters(route.query, defs)
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = _request_body(route)
    responses: dict[str, Any] = {}
    if route.response is not None:
        for success in (route.status, *route.also):
            responses[str(success)] = {
                "description": "Success",
                "content": {"application/json": {"schema": {"$ref": REF.format(model=route.response.__name__)}}},
            }
    elif route.produces is not None:
        media, schema = route.produces
        responses[str(route.status)] = {"description": "Success", "content": {media: {"schema": schema}}}
    else:
        responses[str(route.status if route.status != 200 else 204)] = {"description": "Success, no content"}
    if FORM in route.content_types:
        # RFC 6749 section 5.2: the token endpoint's refusals are {error, error_description}.
        responses["400"] = {
            "description": "RFC 6749 section 5.2 error (invalid_client when the client used form fields).",
            "content": {"application/json": {"schema": OAUTH_ERROR}},
        }
        responses["401"] = {
            "description": "invalid_client: HTTP Basic authentication failed or none was given.",
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": OAUTH_ERROR}},
        }
    for status, codes in sorted(route_errors(route).items()):
        if FORM in route.content_types and status in (400, 401):
            continue
        if status == 401:
            headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            responses[str(status)] = _error_response(codes, "Missing or invalid API key.", headers)
        elif status == 503:
            responses[str(status)] = _error_response(
                codes, "A dependency (DynamoDB, SES) is throttling or failing; nothing was changed.", RETRY_AFTER
            )
        elif status == 429:
            continue  # merged with API Gateway's 429 below
        else:
            responses[str(status)] = _error_response(codes, "Error.")
    limits = route_errors(route).get(429, [])
    text = RATE_LIMIT_TEXT + (" Or an abuse limit of this call (a daily quota, a cooldown)." if limits else "")
    responses["429"] = _error_response([*limits, RATE_LIMITED], text, RETRY_AFTER)
    op["responses"] = responses
    op["security"] = [] if route.auth == "none" else [{"bearer": []}]
    if route.auth == "optional":
        op["security"] = [{}, {"bearer": []}]
    return op


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """Build (once per process) the OpenAPI document of every registered REST route."""
    routes = declared_routes()
    models: list[type[BaseModel]] = [schemas.ErrorEnvelope]
    for route in routes:
        models += [m for m in (route.body, route.response) if m is not None]
    unique = list(dict.fromkeys(models))
    _, top = models_json_schema(
        [(m, "validation" if m in {r.body for r in routes} else "serialization") for m in unique],
        ref_template=REF,
    )
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, defs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orgmembers API",
            "version": "1.0.0",
            "description": "Organization member management: members, invitations, seats, access tokens, "
            'audit log. Every error answers `{"error": {"code", "message", "details"?}}` (the OAuth token '
            "endpoint excepted: RFC 6749 section 5.2's `{error, error_description}`); "
            "the codes each operation can answer are listed with its responses. "
            + RATE_LIMIT_TEXT.replace("API Gateway", "Rate limits: API Gateway")
            + " "
            + LIMITS_TEXT.format(max_body=get_settings().max_body_bytes),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            # Every error code a client may see and its status (also those no single operation
            # declares: 405 for an undeclared method, 429 from API Gateway).
            "x-error-codes": {**_error_statuses(), RATE_LIMITED: 429},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API key (oak_…), or a service account's access token "
                    "(osa_…, from POST /v1/oauth/token) on the routes its scopes open.",
                }
            },
        },
    }
