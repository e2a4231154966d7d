"""The one place where failures on SCIM routes become SCIM error responses.

RFC 7644 §3.12: ``urn:ietf:params:scim:api:messages:2.0:Error`` with the
status as a string, an optional ``scimType`` and a ``detail``, served as
``application/scim+json``. scim2-models exceptions carry their own status
and scimType; domain errors map through ``DOMAIN_ERRORS``; pydantic
validation errors of SCIM payloads become 400 with the keyword scim2-models
derives; anything unexpected is logged and answered 500 without details.
"""

from __future__ import annotations

import json
import logging

from chalice import Response
from pydantic import ValidationError
from scim2_models import Error, SCIMException

from ..domain.errors import DomainError, ServiceUnavailable
from ..storage.base import unavailable

log = logging.getLogger(__name__)

SCIM_CONTENT_TYPE = "application/scim+json"

# code -> (HTTP status, scimType or None). Codes not listed keep their own status, no scimType.
DOMAIN_ERRORS: dict[str, tuple[int, str | None]] = {
    "invalid_request": (400, "invalidValue"),
    "already_member": (409, "uniqueness"),
    # Out of seats: a request the org cannot satisfy now; RFC 7644 has no scimType for quotas.
    "seat_limit_reached": (400, None),
    "last_admin": (409, None),
    # SCIM create acts directly, so only on the org's verified domains.
    "domain_not_verified": (400, "invalidValue"),
}


def scim_response(body: dict[str, object] | None, status: int, headers: dict[str, str] | None = None) -> Response:
    sent: dict[str, str | list[str]] = {"Content-Type": SCIM_CONTENT_TYPE}
    sent.update(headers or {})
    return Response(body=json.dumps(body) if body is not None else "", status_code=status, headers=sent)


def to_error(exc: Exception) -> Error | None:
    if isinstance(exc, SCIMException):
        return exc.to_error()
    if isinstance(exc, DomainError):
        status, scim_type = DOMAIN_ERRORS.get(exc.code, (exc.status, None))
        return Error(status=status, scim_type=scim_type, detail=exc.message)
    if isinstance(exc, ValidationError):
        errors = Error.from_validation_errors(exc)
        return errors[0] if errors else Error(status=400, scim_type="invalidValue", detail="The request is not valid.")
    if unavailable(exc):
        return Error(status=503, detail=ServiceUnavailable.default_message)
    return None


def error_response(exc: Exception, request_id: str) -> Response:
    error = to_error(exc)
    if error is None:
        log.exception("unhandled SCIM error", extra={"request_id": request_id})
        error = Error(status=500, detail=f"Something went wrong on our side (request {request_id}).")
    headers: dict[str, str] = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    if error.status == 503:
        headers["Retry-After"] = "1"
    return scim_response(error.model_dump(), int(error.status or 500), headers)
