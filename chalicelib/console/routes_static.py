"""The console's own stylesheet and script, served from the package (no CDN, no build step)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

from ..domain.errors import NotFound
from .web import SECURITY_HEADERS, page_route

bp = Blueprint(__name__)

STATIC = Path(__file__).parent / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@lru_cache(maxsize=16)
def _asset(name: str) -> str | None:
    path = STATIC / name
    if path.suffix not in TYPES or path.parent != STATIC or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


@page_route(bp, "/static/{name}", summary="Stylesheet and script of the console", auth="none")
def asset(req: object, name: str) -> Response:
    body = _asset(name)
    if body is None:
        raise NotFound()
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": TYPES[Path(name).suffix],
        "Cache-Control": "public, max-age=3600",
    }
    return Response(body=body, status_code=200, headers=headers)
