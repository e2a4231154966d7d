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

from ..domain.errors import all_error_types
from . import schemas
from .routing import ROUTES, RouteSpec

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{([^}]+)}")


def _error_statuses() -> dict[str, int]:
    return {cls.code: cls.status for cls in all_error_types()}


def _route_errors(route: RouteSpec) -> dict[int, list[str]]:
    """Documented error codes of a route, grouped by status."""
    statuses = _error_statuses()
    codes = list(route.errors)
    if route.body is not None or route.query is not None or _PATH_PARAM.search(route.path):
        codes.append("invalid_request")
    if route.auth == "api_key":
        codes.append("unauthenticated")
    codes.append("service_unavailable")
    grouped: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        grouped.setdefault(statuses.get(code, 400), []).append(code)
    return grouped


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.get("$defs", {}).items():
        defs.setdefault(name, sub)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(route: RouteSpec, defs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": list(route.tags) or ["service"],
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        params += _query_parameters(route.query, defs)
    if params:
        op["parameters"] = params
    if route.body is not None:
        content: dict[str, Any] = {"application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}}
        if "text/csv" in route.content_types:
            content["text/csv"] = {"schema": {"type": "string", "description": "CSV with an email column"}}
        op["requestBody"] = {"required": True, "content": content}
    responses: dict[str, Any] = {}
    if route.response is not None:
        responses[str(route.status)] = {
            "description": "Success",
            "content": {"application/json": {"schema": {"$ref": REF.format(model=route.response.__name__)}}},
        }
    else:
        responses[str(route.status if route.status != 200 else 204)] = {"description": "Success, no content"}
    for status, codes in sorted(_route_errors(route).items()):
        responses[str(status)] = {
            "description": "Error: " + ", ".join(f"`{c}`" for c in codes),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorEnvelope")}}},
        }
    op["responses"] = responses
    op["security"] = [] if route.auth == "none" else [{"bearer": []}]
    if route.auth == "optional":
        op["security"] = [{}, {"bearer": []}]
    return op


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """Build (once per process) the OpenAPI document of every registered REST route."""
    models: list[type[BaseModel]] = [schemas.ErrorEnvelope]
    for route in ROUTES:
        models += [m for m in (route.body, route.response) if m is not None]
    unique = list(dict.fromkeys(models))
    _, top = models_json_schema(
        [(m, "validation" if m in {r.body for r in ROUTES} else "serialization") for m in unique],
        ref_template=REF,
    )
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, defs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orgmembers API",
            "version": "1.0.0",
            "description": "Organization member management: members, invitations, seats, access tokens, audit log.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API key (oak_…).",
                }
            },
        },
    }
