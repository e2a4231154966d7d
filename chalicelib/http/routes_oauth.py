"""Route: the OAuth 2.0 token endpoint of service accounts (client credentials, RFC 6749 section 4.4).

The request is a form (``application/x-www-form-urlencoded``); the client
authenticates with HTTP Basic (RFC 6749 section 2.3.1: form-encoded id and
secret) or with ``client_id`` / ``client_secret`` form fields, never both.
Refusals answer RFC 6749 section 5.2's ``{"error", "error_description"}``
(``chalicelib.http.errors.oauth_error_response``), not the API's envelope.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, unquote_plus

from chalice import Blueprint, Response
from pydantic import BaseModel, Field

from ..config import get_settings
from ..domain.errors import OAuthError
from ..services import service_accounts
from .errors import NO_STORE
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)

FORM = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"


class TokenForm(BaseModel):
    """The form fields (documentation: the body is parsed by hand, RFC 6749 style)."""

    grant_type: str = Field(description="client_credentials")
    scope: str | None = Field(default=None, description="Space-separated scopes (default: all of the account's).")
    client_id: str | None = Field(default=None, description="The client id (sa_...), unless sent by HTTP Basic.")
    client_secret: str | None = Field(default=None, description="The client secret (oss_...), unless by Basic.")


class TokenAnswer(BaseModel):
    access_token: str = Field(description="Opaque bearer token (osa_...) for the REST API, within its scopes.")
    token_type: str = "Bearer"
    expires_in: int
    scope: str


def _form(req: ApiRequest) -> dict[str, str]:
    raw = req.raw.raw_body or b""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if req.content_type != FORM:
        raise OAuthError("invalid_request", f"The body must be {FORM}.")
    if len(data) > get_settings().max_body_bytes:
        raise OAuthError("invalid_request", "The request body is too large.")
    try:
        pairs = parse_qsl(data.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(data.strip()))
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "The body is not a valid form.") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"The parameter {name} is given more than once.")
        form[name] = value
    return form


def _basic(req: ApiRequest) -> tuple[str, str] | None:
    """HTTP Basic credentials, or None without an Authorization header."""
    header = req.raw.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_request", "Authenticate with HTTP Basic or with client_id and client_secret.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error is a ValueError; so is non-ASCII input
        raise OAuthError("invalid_client", "The Basic credentials are not valid.", basic=True) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "The Basic credentials are not valid.", basic=True)
    return unquote_plus(client_id), unquote_plus(secret)


@api_route(
    bp,
    "/v1/oauth/token",
    "POST",
    summary="Token endpoint: the OAuth 2.0 client-credentials grant for service accounts (errors: RFC 6749 5.2)",
    auth="none",
    body=TokenForm,
    parse_body=False,
    content_types=(FORM, "application/json"),
    produces=("application/json", TokenAnswer.model_json_schema()),
)
def oauth_token(req: ApiRequest) -> Response:
    form = _form(req)
    basic = _basic(req)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.", basic=basic is not None)
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"Only {GRANT_TYPE} is supported.", basic=basic is not None)
    if basic is not None:
        if "client_secret" in form or form.get("client_id", basic[0]) != basic[0]:
            raise OAuthError("invalid_request", "Use one client authentication method, not both.", basic=True)
        client_id, client_secret = basic
    elif "client_id" in form or "client_secret" in form:
        if not form.get("client_id") or not form.get("client_secret"):
            raise OAuthError("invalid_request", "client_id and client_secret are both required.")
        client_id, client_secret = form["client_id"], form["client_secret"]
    else:
        # No client authentication at all: challenge for Basic (401).
        raise OAuthError("invalid_client", "Client authentication is required.", basic=True)
    requested = service_accounts.parse_scope(form.get("scope"), basic is not None)
    granted = service_accounts.grant(client_id, client_secret, requested, basic=basic is not None)
    body = TokenAnswer(
        access_token=granted.access_token,
        expires_in=granted.expires_in,
        scope=" ".join(service_accounts.sorted_scopes(granted.scopes)),
    )
    return Response(body=json.dumps(body.model_dump()), status_code=200, headers=NO_STORE)
