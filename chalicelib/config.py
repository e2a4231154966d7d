"""Settings from environment variables: one object, read once per process.

Every setting the functions read is a field here, so the deployment template
can be checked against this module (a new setting cannot be forgotten there).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from .environment import PLACEHOLDER_STREAM_ARN

# Public, so links signed with it are forgeable by anyone who reads a table:
# accepted only where mail stays on the machine (outbox, memory) or the
# database is not AWS's (a local endpoint).
DEVELOPMENT_SIGNING_KEY = "local-development-signing-key-change-me"


class Settings(BaseModel):
    """Deployment settings; field names map to upper-case environment variables."""

    stage: str = "dev"
    table_prefix: str = "orgmembers-dev-"
    aws_region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    # DynamoDB's time budget per request: (1 + retries) x (connect + read) plus the
    # retries' backoff (at most 1 s, then 2 s) is 3 x 6 + 3 = 21 s, inside API
    # Gateway's 29 s, so a stalled DynamoDB answers 503 rather than a gateway timeout.
    dynamodb_connect_timeout_seconds: int = Field(default=2, ge=1, le=10)
    dynamodb_read_timeout_seconds: int = Field(default=4, ge=1, le=20)
    dynamodb_max_retry_attempts: int = Field(default=2, ge=0, le=5)

    invitation_ttl_days: int = Field(default=7, ge=1, le=90)
    # A claimed invitation email not recorded sent or failed within this time was lost with
    # its process: a stream replay or the hourly job sends it again (a rare duplicate, never a loss).
    send_lease_seconds: int = Field(default=600, ge=1, le=86_400)
    token_default_days: int = Field(default=365, ge=1)
    token_max_days: int = Field(default=365, ge=1)
    login_link_minutes: int = Field(default=15, ge=1, le=1440)
    # Sign-in link asks per 15-minute window: per email (whether or not an account has it)
    # and per source address (generous: offices share one address). Over it: 429 with Retry-After.
    signin_requests_per_email: int = Field(default=5, ge=1)
    signin_requests_per_address: int = Field(default=60, ge=1)
    api_key_max_days: int = Field(default=365, ge=1)
    # Lifetime of a service account's access token (OAuth client credentials, expires_in).
    service_token_seconds: int = Field(default=900, ge=60, le=3600)

    public_base_url: str = "http://127.0.0.1:8000"
    mail_backend: Literal["ses", "outbox", "memory"] = "ses"
    mail_sender: str = "no-reply@example.com"
    ses_configuration_set: str | None = None
    outbox_dir: str = ".local/outbox"

    # Server-side key for HMAC of one-time links. In AWS the template names an SSM
    # SecureString parameter instead, so the key is never in the template or config.
    # Read it through link_signing_key(), which resolves the parameter lazily.
    link_signing_key: str = DEVELOPMENT_SIGNING_KEY
    link_signing_key_parameter: str | None = None

    # Read at import by the stream handlers through environment.stream_arn (same variables).
    members_stream_arn: str = PLACEHOLDER_STREAM_ARN
    invitations_stream_arn: str = PLACEHOLDER_STREAM_ARN
    sessions_stream_arn: str = PLACEHOLDER_STREAM_ARN

    # DNS server for domain verification, "host" or "host:port" (local stack, tests);
    # unset: the system resolver (/etc/resolv.conf, as in Lambda).
    dns_resolver: str | None = None

    # Abuse limits (docs/api.md "Abuse limits"): per UTC day, counted when an invitation is written.
    # An org younger than new_org_days gets the *_new_org limits; the inviting account's limit
    # counts its invitations in every org.
    invitations_per_org_day: int = Field(default=2000, ge=0)
    invitations_per_new_org_day: int = Field(default=200, ge=0)
    invitations_per_account_day: int = Field(default=2000, ge=0)
    resends_per_org_day: int = Field(default=1000, ge=0)
    resends_per_new_org_day: int = Field(default=100, ge=0)
    resends_per_account_day: int = Field(default=1000, ge=0)
    new_org_days: int = Field(default=7, ge=0)
    resend_cooldown_seconds: int = Field(default=600, ge=0)

    max_body_bytes: int = 1_048_576

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from the environment (unset variables keep defaults)."""
        env = os.environ if environ is None else environ
        values = {
            name: env[name.upper()] for name in cls.model_fields if name.upper() in env and env[name.upper()] != ""
        }
        return cls.model_validate(values)

    def table_name(self, base: str) -> str:
        """Physical table name for a logical table (stage prefix + base)."""
        return f"{self.table_prefix}{base}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (tests call reset_settings)."""
    return Settings.from_env()


@lru_cache(maxsize=1)
def link_signing_key() -> str:
    """The link HMAC key: from the SSM SecureString when one is named, else the setting.

    Resolved on first use, not at import, so functions that never sign a link
    pay no SSM call (and no boto3 import) at cold start.
    """
    settings = get_settings()
    if not settings.link_signing_key_parameter:
        local = settings.mail_backend != "ses" or settings.dynamodb_endpoint is not None
        if settings.link_signing_key == DEVELOPMENT_SIGNING_KEY and not local:
            raise RuntimeError(
                "No link signing key: set LINK_SIGNING_KEY_PARAMETER (an SSM SecureString) or LINK_SIGNING_KEY."
            )
        return settings.link_signing_key
    import boto3

    ssm = boto3.client("ssm", region_name=settings.aws_region)
    response = ssm.get_parameter(Name=settings.link_signing_key_parameter, WithDecryption=True)
    return str(response["Parameter"]["Value"])


def reset_settings() -> None:
    """Forget cached settings so the next get_settings() rereads the environment."""
    get_settings.cache_clear()
    link_signing_key.cache_clear()
