"""Chalice's own error responses, rewritten into the API's error envelope.

Chalice answers some requests before any view runs: 405 for a method the
path does not declare and 415 for a Content-Type the route does not accept,
with a ``{"Code": ..., "Message": ...}`` body of its own. This middleware is
the single place that turns those into ``{"error": {"code", "message"}}``
so that clients see one error format (the codes are documented errors).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from chalice.app import Request, Response

from ..domain.errors import DomainError, MethodNotAllowed, UnsupportedMediaType
from .errors import JSON_HEADERS, error_body

FRAMEWORK_ERRORS: dict[str, type[DomainError]] = {
    "MethodNotAllowedError": MethodNotAllowed,
    "UnsupportedMediaType": UnsupportedMediaType,
}


def _chalice_error_code(response: Response) -> str | None:
    if response.status_code < 400 or not isinstance(response.body, dict):
        return None
    code = response.body.get("Code")
    return code if isinstance(code, str) else None


API_PREFIXES = ("/v1/", "/scim/", "/openapi.json", "/docs")


def is_page_request(event: Request) -> bool:
    """A request for a console page: answered with a page whatever it asked for (the JSON API and SCIM
    keep their envelopes)."""
    path = str((event.context or {}).get("resourcePath") or (event.context or {}).get("path") or "")
    return not path.startswith(API_PREFIXES)


def envelope_framework_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: our envelope on Chalice's 405/415 answers; everything else passes through."""
    response = get_response(event)
    error_type = FRAMEWORK_ERRORS.get(_chalice_error_code(response) or "")
    if error_type is None:
        return response
    if is_page_request(event):
        from ..console.web import error_page  # a console page answers in words, not in JSON

        return error_page(error_type(), None, str((event.context or {}).get("requestId") or ""))
    headers = dict(response.headers or {})
    headers.update(JSON_HEADERS)
    return Response(
        body=json.dumps(error_body(error_type(str(response.body.get("Message") or "") or None))),
        status_code=error_type.status,
        headers=headers,
    )
