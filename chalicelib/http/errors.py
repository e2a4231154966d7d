"""The one place where errors become HTTP responses.

Domain errors carry their status and code; validation errors become 400
``invalid_request`` with one detail per field; DynamoDB throttling and
internal errors become 503 ``service_unavailable`` (retryable, ``Retry-After:
1``); an error that knows when to come back (``retry_after``, the 429s of the
abuse limits) sends it as ``Retry-After`` in seconds; anything
else is logged and answered 500 without a stack trace.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from chalice import Response
from pydantic import ValidationError

from ..domain.errors import Conflict, DomainError, InvalidRequest, OAuthError, ServiceUnavailable
from ..storage.base import TransactionCancelled, unavailable

log = logging.getLogger(__name__)

JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """One entry per field problem: dotted field path, problem, message."""
    details = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(p) for p in err.get("loc", ())) or "body"
        details.append({"field": field, "problem": err.get("type", "invalid"), "message": err.get("msg", "")})
    return details


def to_domain_error(exc: Exception) -> DomainError | None:
    """Translate known failures into domain errors; None for the unexpected."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, ValidationError):
        return InvalidRequest("The request is not valid.", details=validation_details(exc))
    if unavailable(exc):
        return ServiceUnavailable()
    if isinstance(exc, TransactionCancelled) and exc.retryable:
        # A race no service mapped to a rule (e.g. TransactionConflict): 409, safe to retry.
        return Conflict()
    return None


def retry_after(error: DomainError) -> str | None:
    """``Retry-After`` in seconds: when the error knows it (429s), else 1 for a 503, else none."""
    if error.retry_after is not None:
        return str(max(1, int(error.retry_after)))
    return "1" if error.status == 503 else None


def error_body(error: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return {"error": body}


# RFC 6749 section 5.1: token endpoint answers are never cached.
NO_STORE: dict[str, str | list[str]] = {**JSON_HEADERS, "Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(error: OAuthError) -> Response:
    """The token endpoint's refusals, in RFC 6749 section 5.2's shape (``error``, ``error_description``)."""
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="orgmembers", charset="UTF-8"'
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, error.retry_after))
    body = {"error": error.error, "error_description": error.description}
    return Response(body=json.dumps(body), status_code=error.status, headers=headers)


def error_response(exc: Exception, request_id: str) -> Response:
    """The JSON error envelope of docs/api.md for any exception (the token endpoint's RFC 6749 shape aside)."""
    if isinstance(exc, OAuthError):
        return oauth_error_response(exc)
    error = to_domain_error(exc)
    if error is None:
        log.exception("unhandled error", extra={"request_id": request_id})
        body = {
            "error": {
                "code": "internal_error",
                "message": "Something went wrong on our side.",
                "request_id": request_id,
            }
        }
        return Response(body=json.dumps(body), status_code=500, headers=JSON_HEADERS)
    headers: dict[str, str | list[str]] = dict(JSON_HEADERS)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="orgmembers"'
    retry = retry_after(error)
    if retry is not None:
        headers["Retry-After"] = retry
    if error.status >= 500:
        log.warning(
            "dependency failure",
            extra={"request_id": request_id, "code": error.code, "error": f"{type(exc).__name__}: {exc}"},
        )
    return Response(body=json.dumps(error_body(error)), status_code=error.status, headers=headers)
