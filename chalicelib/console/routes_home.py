"""Pages: the Organizations page (home), creating an org, and the Profile page."""

from __future__ import annotations

from datetime import datetime

from chalice import Blueprint

from ..config import get_settings
from ..domain.errors import DomainError
from ..domain.roles import Permission
from ..http.schemas import CreateApiKey, CreateOrg
from ..services import accounts, keys, members, orgs
from . import forms
from .routes_signin import sign_in_form
from .routes_tokens import expiry_in, lifetimes
from .web import Page, PageRequest, Redirect, confirm_first, page_route

bp = Blueprint(__name__)


def memberships(account_id: str) -> list[dict[str, object]]:
    joined = members.memberships_of(account_id)
    names = orgs.names_of(m.org_id for m in joined)  # one BatchGetItem, not a read per org
    return [
        {"org_id": m.org_id, "org_name": names[m.org_id] or m.org_id, "role": m.role, "seat": m.has_seat}
        for m in joined
    ]


def organizations_page(req: PageRequest, name: str = "", error: str | None = None, status: int = 200) -> Page:
    return Page(
        "orgs.html",
        {"title": "Organizations", "memberships": memberships(req.account_id), "name": name, "error": error},
        status,
    )


@page_route(bp, "/", summary="Organizations (or the sign-in form when signed out)", auth="optional")
def home(req: PageRequest) -> Page:
    if req.session is None:
        return sign_in_form()
    return organizations_page(req)


@page_route(bp, "/orgs", "POST", summary="Create an organization")
def create_org(req: PageRequest) -> Page | Redirect:
    typed = req.value("name").strip()
    try:
        body = forms.checked(CreateOrg, name=typed)
    except forms.FormInvalid as exc:
        return organizations_page(req, typed, exc.message, 400)
    account = accounts.get(req.account_id)
    assert account is not None
    org = orgs.create_org(req.actor, body.name, admin=account)
    return Redirect(f"/orgs/{org.org_id}")


def profile_page(req: PageRequest, **extra: object) -> Page:
    context: dict[str, object] = {
        "title": "Profile",
        "memberships": memberships(req.account_id),
        "api_keys": keys.list_keys(req.account_id),
        "key_lifetimes": key_lifetimes(),
        "key_days": NEVER,
        "key_name": "",
        "key_error": None,
        "new_key": None,
        "leave_error": None,
    }
    status = int(str(extra.pop("status", 200)))
    context.update(extra)
    return Page("profile.html", context, status)


@page_route(bp, "/profile", summary="Profile: memberships and personal API keys")
def profile(req: PageRequest) -> Page:
    return profile_page(req)


NEVER = "never"


def key_lifetimes() -> list[int]:
    """A key's expiry choices besides "Never", up to the keys' maximum lifetime."""
    return lifetimes(get_settings().api_key_max_days)


def key_expiry(req: PageRequest) -> datetime | None:
    """No expiry unless one of the offered choices was picked (as the API: ``expires_at`` is optional)."""
    if req.value("days") in ("", NEVER):
        return None
    return expiry_in(req, key_lifetimes())


@page_route(bp, "/profile/api-keys", "POST", summary="Create a personal API key (shown once), optionally expiring")
def create_api_key(req: PageRequest) -> Page:
    typed = req.value("name").strip()
    days = req.value("days") or NEVER
    try:
        body = forms.checked(CreateApiKey, name=typed)
        expires_at = key_expiry(req)
    except forms.FormInvalid as exc:
        return profile_page(req, key_name=typed, key_days=days, key_error=exc.message, status=400)
    key, secret = keys.issue(req.account_id, body.name, once_key=req.once_key(), expires_at=expires_at)
    return profile_page(req, new_key={"key": key, "secret": secret}, status=201)


@page_route(bp, "/profile/api-keys/{key_id}/revoke", "POST", summary="Revoke a personal API key")
def revoke_api_key(req: PageRequest, key_id: str) -> Page | Redirect:
    question = confirm_first(
        req,
        title="Revoke API key?",
        question="Revoke this API key? Scripts using it stop working at once.",
        button="Revoke",
        cancel="/profile",
    )
    if question is not None:
        return question
    keys.revoke(req.account_id, key_id)
    return Redirect("/profile")


@page_route(bp, "/orgs/{org_id}/leave", "POST", summary="Leave organization")
def leave(req: PageRequest, org_id: str) -> Page | Redirect:
    members.authorize(org_id, req.actor, Permission.READ_ORG)  # strangers learn nothing, not even the name
    question = confirm_first(
        req,
        title="Leave organization?",
        question=f"Leave {orgs.name_of(org_id) or 'this organization'}? Your seat and tokens there end at once.",
        button="Leave organization",
        cancel="/profile",
    )
    if question is not None:
        return question
    try:
        members.remove_member(org_id, req.actor, req.account_id)
    except DomainError as exc:
        if exc.code != "last_admin":
            raise
        name = orgs.name_of(org_id) or "this organization"
        return profile_page(
            req,
            leave_error=(
                f"You are the last Account Admin of {name}, so you cannot leave it. "
                "Make someone else an Account Admin first."
            ),
            status=409,
        )
    return Redirect("/profile")
