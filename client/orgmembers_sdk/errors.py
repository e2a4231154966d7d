"""What the SDK raises: the API's error envelope as an exception, and the network's failures."""

from __future__ import annotations

from typing import Any


class OrgMembersError(Exception):
    """Base of every error the SDK raises."""


class ApiError(OrgMembersError):
    """The API answered with an error: its HTTP status and the envelope's stable ``code``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, retry_after: float | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after


class AuthError(OrgMembersError):
    """The token endpoint refused the client credentials (RFC 6749 §5.2 ``error``)."""

    def __init__(self, error: str, description: str | None = None, status: int | None = None):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


class NetworkError(OrgMembersError):
    """The API could not be reached (connection refused, DNS, timeout) after the retries."""
