"""Every error a page can meet, said in a sentence (pages never show a code or a trace)."""

from __future__ import annotations

from ..domain.errors import DomainError

ROLE_NAMES = {"account_admin": "Account Admin", "billing_manager": "Billing Manager", "member": "Member"}


def role_name(value: object) -> str:
    """A role as the pages name it (Account Admin, Billing Manager, Member)."""
    return ROLE_NAMES.get(str(value), str(value).replace("_", " ").title())


def seats_taken(capacity: int) -> str:
    """The "All 3 seats are taken" of a refusal, in words that also fit an org of one seat or none."""
    if capacity <= 0:
        return "The organization has no seats"
    if capacity == 1:
        return "Its only seat is taken"
    return f"All {capacity} seats are taken"


INTERNAL = "Something went wrong on our side. Nothing was changed; please try again in a moment."

# code -> (title, sentence)
# Why a token, SCIM token or service account stopped working, as the console says it.
ENDED_BECAUSE: dict[str, str] = {
    "seat_revoked": "seat revoked",
    "member_removed": "removed from the organization",
    "revoked_by_owner": "revoked by you",
    "revoked_by_admin": "revoked by an admin",
    "maker_removed": "its creator left the organization",
    "maker_demoted": "its creator is no longer an admin",
}


def ended_because(reason: str | None) -> str:
    """A stored reason (``maker_removed``) in words; an unknown one with its underscores as spaces."""
    if not reason:
        return ""
    return ENDED_BECAUSE.get(reason, reason.replace("_", " "))


SENTENCES: dict[str, tuple[str, str]] = {
    "not_found": ("Page not found", "There is nothing here. Check the address, or go back to your organizations."),
    "forbidden": ("Not allowed", "Your role in this organization does not allow this. Ask one of its admins."),
    "unauthenticated": ("Sign in to continue", "Your session has ended. Sign in again to continue."),
    "sign_in_required": ("Sign in to continue", "Your session has ended. Sign in again to continue."),
    "already_done": (
        "Already done",
        "This form was already sent (reloading a page sends it again), so nothing was done twice. "
        "What it made is listed on the page.",
    ),
    "cross_site": (
        "Form refused",
        "This form was sent from another site, so nothing was done. Use the form on this site's own page.",
    ),
    "csrf_failed": (
        "Form out of date",
        "This form belongs to an older sign-in, so nothing was done. Reload the page and try again.",
    ),
    "invalid_request": ("Please check the form", "Something in the form is not valid. Nothing was changed."),
    "conflict": ("Please try again", "Someone else changed this at the same moment. Nothing was changed; try again."),
    "service_unavailable": (
        "Please try again",
        "The service is busy right now, so this may not have been done. Reload the page to check, then try again.",
    ),
    "rate_limited": ("Please slow down", "Too many requests in a short time. Wait a moment and try again."),
    "last_admin": (
        "An organization needs an admin",
        "You are the last Account Admin of this organization, so you cannot leave or stop being one. "
        "Make someone else an Account Admin first.",
    ),
    "cannot_change_own_role": ("Not allowed", "Administrators cannot change their own role."),
    "already_member": ("Already a member", "This account is already a member of the organization."),
    "seat_required": (
        "A seat is needed",
        "You need a seat in this organization to issue a token. Ask one of its admins for a seat.",
    ),
    "seat_limit_reached": ("No seats left", "All seats are taken. Free a seat or raise the capacity first."),
    "invalid_code": (
        "This sign-in link no longer works",
        "Sign-in links work once and for a short time. Ask for a new one.",
    ),
    "invitation_expired": ("This invitation has expired", "Ask an admin of the organization to resend it."),
    "invitation_revoked": (
        "This invitation no longer works",
        "It was removed or replaced by a newer one. Ask an admin of the organization to resend it.",
    ),
    "already_accepted": ("Already accepted", "This invitation was already accepted. Sign in to use the organization."),
    "email_mismatch": ("A different account", "This invitation is for another email address."),
    "method_not_allowed": ("Page not found", "There is nothing here. Check the address."),
    "unsupported_media_type": ("Form refused", "This form could not be read, so nothing was done."),
    "payload_too_large": ("Too large", "What was sent is too large. Nothing was changed."),
    "capacity_below_usage": (
        "Too few seats",
        "The capacity cannot be lower than the seats in use. Revoke seats first, then lower it.",
    ),
    "invalid_csv": ("The file could not be read", "The file is not a CSV file we can read. Nothing was changed."),
    "too_many_rows": ("Too many rows", "The file has more rows than one upload may have. Split it and try again."),
    "no_seat": ("No seat", "This member has no seat."),
    "seat_already_assigned": ("Already has a seat", "This member already has a seat."),
    "token_revoked": ("Token revoked", "This token was revoked and cannot be changed."),
    "org_name_not_allowed": (
        "Choose another name",
        "An organization name may not contain a web address, a domain name (like example.com), "
        "a scheme (like https:) or a line break, because it is shown in every email the organization sends.",
    ),
    "too_many_sign_in_requests": (
        "Too many sign-in links",
        "Sign-in links were asked for too often, for this email or from this network, so no new link was sent."
        " A link already sent still works.",
    ),
    "resend_too_soon": (
        "Sent a moment ago",
        "This invitation was sent a moment ago, so it was not sent again.",
    ),
    "invitation_quota_exceeded": (
        "Today's invitation limit is reached",
        "No more invitations can be sent from this organization today, so this person was not invited.",
    ),
    "resend_quota_exceeded": (
        "Today's resend limit is reached",
        "No more invitations can be resent today, so it was not sent again.",
    ),
    "invalid_domain": ("Please check the domain", "That is not a domain name (for example acme.example)."),
    "domain_already_claimed": ("Already claimed", "This organization has already claimed that domain."),
    "domain_not_verified": (
        "Not verified yet",
        "The TXT record was not found in the domain's DNS. Check the record shown under Domains, wait for DNS to "
        "update, then verify again.",
    ),
    "domain_taken": ("Domain taken", "Another organization has verified this domain, so it cannot be verified here."),
    "dns_unavailable": (
        "Please try again",
        "The domain's DNS did not answer in time. Nothing was changed; try again in a moment.",
    ),
    "secret_limit_reached": (
        "Two secrets already",
        "A service account holds at most two secrets. Delete the older one before adding another.",
    ),
}


def describe(error: DomainError) -> tuple[str, str]:
    """Title and sentence for an error; a specific message from the service is kept when it is about the form."""
    title, sentence = SENTENCES.get(error.code, ("Something is not right", error.message))
    if error.code == "invalid_request" and error.message and error.message != "The request is not valid.":
        sentence = f"{error.message} Nothing was changed."
    if error.retry_after is not None:
        from ..services.abuse_limits import in_words

        sentence = f"{sentence} Try again {in_words(error.retry_after)}."
    return title, sentence
