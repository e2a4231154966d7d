"""SCIM Users: the members of the token's org.

``active`` is the seat: false revokes it (the member stays, readable),
true assigns one when one is free. POST never fails for lack of seats: the
user is created and answered with ``active: false`` (the IdP sees the
truth in the response); a later PUT/PATCH asking ``active: true`` while the
org is full answers 400 and changes nothing (the seat is decided first).
A POST without ``active`` means active; a PUT without it keeps the seat.
userName is the account email and cannot be changed through SCIM (400
``mutability``). Attributes we do not store (enterprise extension, title,
phone numbers...) are accepted and dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from scim2_models import (
    Context,
    InvalidValueException,
    MutabilityException,
    PatchOp,
    PreconditionFailedException,
    Resource,
    User,
)

from ..clock import now
from ..domain.domains import domain_of_email
from ..domain.emails import InvalidEmail, normalize_email
from ..domain.errors import AlreadyMember, DomainNotVerified, InvalidRequest, NotFound, SeatLimitReached
from ..domain.models import Actor, Member
from ..domain.roles import Permission, Role
from ..services import accounts, audit, domains, members
from ..storage import members as member_rows
from ..storage import scim_pages
from ..storage.base import CancelReason, Tx, retry_races
from . import seat_port
from .filters import FilterPlan, candidates, parse_user_filter
from .resources import UserResource, profile_of, stored_profile, to_user

R = TypeVar("R", bound=Resource[Any])

OUT_OF_SEATS = "The organization is out of seats: every purchased seat is in use. Free a seat or raise the capacity."


@dataclass(frozen=True)
class UserPage:
    total: int
    start_index: int
    users: list[User]


def _item(org_id: str, account_id: str) -> Member:
    item = members.get_item(org_id, account_id)
    if item is None:
        raise NotFound("No such user.")
    return item


def check_version(resource: Resource[Any], if_match: str | None) -> None:
    """If-Match: proceed only when one of the listed ETags is the current version."""
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    current = resource.meta.version if resource.meta else None
    if current not in wanted and current is not None and current.removeprefix("W/") not in wanted:
        raise PreconditionFailedException(detail="The resource changed: its version no longer matches If-Match.")


def patched(current: R, payload: dict[str, Any], if_match: str | None) -> R:
    """The resource as the PATCH operations would leave it (If-Match checked first; nothing written)."""
    check_version(current, if_match)
    operations = PatchOp[type(current)].model_validate(  # type: ignore[misc]
        payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    wanted = current.model_copy(deep=True)
    operations.patch(wanted)
    return wanted


def get(org_id: str, account_id: str, base_url: str) -> User:
    return to_user(_item(org_id, account_id), base_url)


def search(org_id: str, base_url: str, filter_text: str | None, start_index: int, count: int) -> UserPage:
    """Filtered, 1-based page of users; unfiltered, only the page is read (``storage.scim_pages``)."""
    scim_filter = parse_user_filter(filter_text)
    first = max(start_index, 1) - 1
    if scim_filter is None:
        total, found = scim_pages.member_page(org_id, first + 1, count)
        return UserPage(total=total, start_index=first + 1, users=[to_user(i, base_url) for i in found])
    items = list(candidates(org_id, scim_filter))
    plan = FilterPlan(scim_filter)
    matched = [u for u in (to_user(i, base_url) for i in items) if plan.match(u)]
    return UserPage(total=len(matched), start_index=first + 1, users=matched[first : first + count])


def _email(user: User) -> str:
    try:
        return normalize_email(user.user_name or "")
    except InvalidEmail as exc:
        raise InvalidRequest(f"userName must be the person's email address ({exc}).") from exc


# What we keep of a SCIM profile (names, emails, displayName) is small; a larger
# one is refused before anything is written (DynamoDB items stop at 400 KB).
MAX_PROFILE_CHARS = 16_000
MAX_NAME_CHARS = 200


def _profile_json(user: User) -> str | None:
    """The stored SCIM profile, or 400 invalidValue when it is too large to keep."""
    profile = stored_profile(user)
    text = json.dumps(profile, sort_keys=True) if profile else None
    display = user.display_name or (user.name.formatted if user.name else None) or ""
    if (text and len(text) > MAX_PROFILE_CHARS) or len(display) > MAX_NAME_CHARS:
        raise InvalidValueException(
            detail=f"The profile is too large (displayName at most {MAX_NAME_CHARS} characters,"
            f" all attributes at most {MAX_PROFILE_CHARS})."
        )
    return text


def _require_verified_domain(org_id: str, email: str) -> None:
    """SCIM acts directly, so only for emails on the org's verified domains (invariant 9).

    A person already in the org (say, by an accepted invitation) is a
    uniqueness conflict as before, whatever the domain; anyone else off the
    verified domains is 400 invalidValue: invite them instead.
    """
    domain = domain_of_email(email)
    if domains.is_verified(org_id, domain):
        return
    if any(True for _ in member_rows.with_email(org_id, email)):
        raise AlreadyMember("A user with this userName already exists in the organization.")
    raise DomainNotVerified(
        f"The domain of userName ({domain}) is not verified by this organization: claim and verify it"
        f" (POST /v1/orgs/{org_id}/domains, then POST /v1/orgs/{org_id}/domains/{domain}/verify)"
        " or invite the person instead."
    )


def create(org_id: str, actor: Actor, base_url: str, payload: dict[str, Any]) -> User:
    """Create the account when absent and the membership; then the seat when ``active`` and one is free."""
    wanted: User[Any] = UserResource.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    email = _email(wanted)
    profile = _profile_json(wanted)  # validated before anything is written
    _require_verified_domain(org_id, email)
    # The IdP's name for the person is this org's word only: it goes on the
    # membership, never on the account that every org of that person shares.
    display = wanted.display_name or (wanted.name.formatted if wanted.name else None)
    extra: dict[str, Any] = {"external_id": wanted.external_id, "scim_profile": profile}
    if display:
        extra["name"] = display

    def attempt() -> accounts.Account:
        tx = Tx()
        account = accounts.found_or_added_to(tx, email)  # created only if the membership is
        members.add_membership_to(tx, org_id, account, Role.MEMBER, extra=extra, if_member=_user_exists)
        details = {"email": account.email, "role": "member"}
        audit.record(tx, org_id, actor, "member.added", account.account_id, details)
        members.caller_still(tx, None, Permission.MANAGE_MEMBERS)  # the token's maker, still an admin
        tx.commit()  # another transaction held an item (TransactionConflict): retried
        return account

    account = retry_races(attempt)
    if wanted.active is not False:
        seat_port.assign(org_id, actor, account.account_id)
    return get(org_id, account.account_id, base_url)


def _user_exists(_reason: CancelReason) -> Exception:
    return AlreadyMember("A user with this userName already exists in the organization.")


def replace(
    org_id: str, actor: Actor, base_url: str, account_id: str, payload: dict[str, Any], if_match: str | None
) -> User:
    """PUT: the given attributes replace ours; an absent ``active`` leaves the seat as it is."""
    current = get(org_id, account_id, base_url)
    check_version(current, if_match)
    wanted: User[Any] = UserResource.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    if wanted.active is None:
        wanted.active = current.active
    return _apply(org_id, actor, base_url, current, wanted)


def patch(
    org_id: str, actor: Actor, base_url: str, account_id: str, payload: dict[str, Any], if_match: str | None
) -> User:
    """PATCH add/replace/remove, with or without path (Okta and Entra ID shapes included)."""
    current = get(org_id, account_id, base_url)
    wanted = patched(current, payload, if_match)
    if wanted.active is None:
        wanted.active = current.active
    return _apply(org_id, actor, base_url, current, wanted)


def _apply(org_id: str, actor: Actor, base_url: str, current: User, wanted: User) -> User:
    """Bring the member to the wanted state: the seat first (it may refuse), then the profile."""
    account_id = current.id or ""
    if wanted.user_name is not None and wanted.user_name.strip().lower() != current.user_name:
        raise MutabilityException(
            detail="userName is the account's email address and cannot be changed; deprovision and provision instead."
        )
    profile = _profile_json(wanted)  # validated before the seat changes
    if wanted.active and not current.active:
        if not seat_port.assign(org_id, actor, account_id):
            raise SeatLimitReached(OUT_OF_SEATS)
    elif wanted.active is False and current.active:
        seat_port.revoke(org_id, actor, account_id)
    if profile != _profile_json(current) or wanted.external_id != current.external_id:
        _write_profile(org_id, actor, account_id, profile, wanted.external_id)
    return get(org_id, account_id, base_url)


def _write_profile(org_id: str, actor: Actor, account_id: str, profile: str | None, external_id: str | None) -> None:
    """One transaction: the member's SCIM attributes under "unchanged since read", and the audit record."""

    def attempt() -> None:
        item = _item(org_id, account_id)
        name = json.loads(profile).get("displayName") if profile else None
        tx = Tx()
        member_rows.set_profile_in(tx, item, profile=profile, external_id=external_id, name=name, at=now())
        changed = sorted(k for k in set(profile_of(item)) | set(json.loads(profile or "{}")))
        if external_id != item.external_id:
            changed.append("externalId")
        audit.record(tx, org_id, actor, "member.profile_updated", account_id, {"attributes": changed})
        members.caller_still(tx, None, Permission.MANAGE_MEMBERS)  # the token's maker, still an admin
        tx.commit()

    retry_races(attempt)


def delete(org_id: str, actor: Actor, base_url: str, account_id: str, if_match: str | None) -> None:
    """Remove the membership (the account stays); the last admin cannot be removed."""
    check_version(get(org_id, account_id, base_url), if_match)
    members.remove_member(org_id, actor, account_id)
