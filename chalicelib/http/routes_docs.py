"""Routes: the OpenAPI document and a self-contained reference page (no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from . import openapi
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)
DOCS_PAGE = Path(__file__).with_name("static") / "docs.html"


@api_route(
    bp,
    "/openapi.json",
    "GET",
    summary="The OpenAPI 3.1 document of this API",
    auth="none",
    produces=("application/json", {"type": "object", "required": ["openapi", "paths"]}),
)
def get_openapi(req: ApiRequest) -> dict[str, Any]:
    return openapi.document()


@api_route(
    bp,
    "/docs",
    "GET",
    summary="Human-readable API reference",
    auth="none",
    produces=("text/html", {"type": "string"}),
)
def get_docs(req: ApiRequest) -> Response:
    return Response(
        body=DOCS_PAGE.read_text(encoding="utf-8"),
        status_code=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
