"""Domain errors: each has a stable ``code`` and the HTTP status it maps to.

Services raise these; ``chalicelib.http.errors`` is the one place that turns
them into responses. The status lives here so that the mapping is a table,
not a chain of ``isinstance`` checks.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a client may see."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None, details: Any = None, *, retry_after: int | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details
        # Seconds until the same request may succeed (429s): sent as the Retry-After header.
        self.retry_after = retry_after


class InvalidRequest(DomainError):
    code = "invalid_request"
    status = 400
    default_message = "The request is not valid."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    default_message = "A valid API key is required (Authorization: Bearer oak_...)."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "You do not have permission to do this."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405
    default_message = "Method not allowed."


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    default_message = "This Content-Type is not accepted here."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "The resource changed concurrently; retry the request."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_message = "The request body is too large."


class CannotChangeOwnRole(DomainError):
    code = "cannot_change_own_role"
    status = 403
    default_message = "Administrators cannot change their own role."


class LastAdmin(DomainError):
    code = "last_admin"
    status = 409
    default_message = "An organization must keep at least one account admin."


class AlreadyMember(DomainError):
    code = "already_member"
    status = 409
    default_message = "This account is already a member of the organization."


class CapacityBelowUsage(DomainError):
    code = "capacity_below_usage"
    status = 409
    default_message = "Seat capacity cannot be set below the number of seats in use."


class SeatLimitReached(DomainError):
    code = "seat_limit_reached"
    status = 402
    default_message = "All purchased seats are in use."


class SeatAlreadyAssigned(DomainError):
    code = "seat_already_assigned"
    status = 409
    default_message = "This member already holds a seat."


class NoSeat(DomainError):
    code = "no_seat"
    status = 404
    default_message = "This member holds no seat."


class SeatRequired(DomainError):
    code = "seat_required"
    status = 403
    default_message = "A seat in this organization is required to issue an access token."


class TokenRevoked(DomainError):
    code = "token_revoked"
    status = 409
    default_message = "This token has been revoked and cannot be renewed."


class AlreadyAccepted(DomainError):
    code = "already_accepted"
    status = 409
    default_message = "This invitation has already been accepted."


class InvitationExpired(DomainError):
    code = "invitation_expired"
    status = 410
    default_message = "This invitation has expired; ask an administrator to reissue it."


class InvitationRevoked(DomainError):
    code = "invitation_revoked"
    status = 410
    default_message = "This invitation has been removed or replaced by a newer one."


class InvitationSuperseded(InvitationRevoked):
    """A link of an invitation that was resent since: the same code for the API, its own page for a person."""

    default_message = "This link was replaced by a newer invitation; use the link in the most recent email."


class EmailMismatch(DomainError):
    code = "email_mismatch"
    status = 403
    default_message = "This invitation was sent to a different email address."


class InvalidCode(DomainError):
    code = "invalid_code"
    status = 400
    default_message = "The code is unknown, used or expired."


class InvalidCsv(DomainError):
    code = "invalid_csv"
    status = 400
    default_message = "The CSV file could not be read."


class TooManyRows(DomainError):
    code = "too_many_rows"
    status = 413
    default_message = "Too many rows in one request."


class OrgNameNotAllowed(DomainError):
    code = "org_name_not_allowed"
    status = 400
    default_message = (
        "An organization name may not contain a web address, a domain name (like example.com), "
        "a scheme (like https:) or a line break."
    )


class InvitationQuotaExceeded(DomainError):
    """A direct add off the verified domains is an invitation, and counts against the daily quotas."""

    code = "invitation_quota_exceeded"
    status = 429
    default_message = "The daily invitation limit is reached; try again tomorrow (see Retry-After)."


class ResendQuotaExceeded(DomainError):
    code = "resend_quota_exceeded"
    status = 429
    default_message = "The daily resend limit is reached; try again tomorrow (see Retry-After)."


class ResendTooSoon(DomainError):
    code = "resend_too_soon"
    status = 429
    default_message = "This invitation was sent a moment ago; wait before sending it again (see Retry-After)."


class TooManySignInRequests(DomainError):
    """Per email and per source address, whether or not an account has the email (it tells nothing)."""

    code = "too_many_sign_in_requests"
    status = 429
    default_message = "Too many sign-in links were asked for; try again later (see Retry-After)."


class ServiceUnavailable(DomainError):
    """A dependency (DynamoDB, SES) is throttling, failing, unreachable or too slow; safe to retry."""

    code = "service_unavailable"
    status = 503
    default_message = (
        "The service is temporarily unavailable; retry shortly (see Retry-After)."
        " A bulk call may have applied part of its items: repeating it is safe."
    )


class InvalidDomain(DomainError):
    code = "invalid_domain"
    status = 400
    default_message = "That is not a domain name (e.g. acme.example)."


class DomainAlreadyClaimed(DomainError):
    code = "domain_already_claimed"
    status = 409
    default_message = "This organization has already claimed that domain."


class DomainNotVerified(DomainError):
    """The DNS TXT challenge was not found; ``details`` says which record was expected."""

    code = "domain_not_verified"
    status = 409
    default_message = "The DNS TXT record of the challenge was not found."


class DomainTaken(DomainError):
    code = "domain_taken"
    status = 409
    default_message = "Another organization has verified this domain."


class DnsUnavailable(DomainError):
    """The resolver did not answer in time; nothing changed, safe to retry."""

    code = "dns_unavailable"
    status = 503
    default_message = "The DNS lookup did not complete; retry shortly."


class ServiceAccountSecretLimit(DomainError):
    code = "secret_limit_reached"
    status = 409
    default_message = "A service account holds at most two secrets: delete one before adding another."


class OAuthError(Exception):
    """A token endpoint refusal in the shape of RFC 6749 section 5.2 (not the API's error envelope).

    ``basic``: the client authenticated with HTTP Basic, so ``invalid_client``
    answers 401 with a ``WWW-Authenticate: Basic`` challenge.
    """

    STATUSES: ClassVar[dict[str, int]] = {
        "invalid_request": 400,
        "invalid_client": 400,
        "invalid_grant": 400,
        "unauthorized_client": 400,
        "unsupported_grant_type": 400,
        "invalid_scope": 400,
        # Not in RFC 6749: too many failed client authentications (``Retry-After`` says when to come back).
        "too_many_requests": 429,
    }

    def __init__(self, error: str, description: str, *, basic: bool = False, retry_after: int | None = None) -> None:
        super().__init__(description)
        assert error in self.STATUSES
        self.error = error
        self.description = description
        self.basic = basic
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return 401 if self.error == "invalid_client" and self.basic else self.STATUSES[self.error]


def all_error_types() -> list[type[DomainError]]:
    """Every concrete error type (for documentation and tests)."""
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found
