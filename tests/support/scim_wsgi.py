"""A WSGI application around the Chalice app, for SCIM clients that speak WSGI (scim2-client).

Each request goes through chalice.test.Client, i.e. the same local API
Gateway emulation the other HTTP tests use: routing, content types,
headers and status codes are the app's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote

from chalice.test import Client

from app import app


def _keep_route(segment: str) -> str:
    """Re-encode what would change the route: "/", "?", "#", ";" and whitespace (chalice strips it)."""
    return "".join(quote(ch, safe="") if ch in "/?#;" or ch.isspace() else ch for ch in segment)


def chalice_wsgi(client: Client | None = None) -> Callable[..., Iterable[bytes]]:
    http = (client or Client(app)).http

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # chalice's local gateway routes on the path without decoding it, while API Gateway
        # hands the function decoded path parameters: decode each segment of the raw target,
        # re-encoding only what would change the route.
        raw = (environ.get("RAW_URI") or quote(environ.get("PATH_INFO") or "/")).split("?")[0]
        path = "/".join(_keep_route(unquote(segment)) for segment in raw.split("/"))
        if environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        status = HTTPStatus(response.status_code)
        start_response(f"{status.value} {status.phrase}", [(k, str(v)) for k, v in response.headers.items()])
        body = response.body
        return [body if isinstance(body, bytes) else str(body or "").encode()]

    return application
