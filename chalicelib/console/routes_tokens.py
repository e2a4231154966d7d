"""Pages: an org's landing and its Token Access page (issue, list, revoke own tokens)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalice import Blueprint

from ..clock import now
from ..config import get_settings
from ..http.schemas_tokens import IssueToken
from ..services import orgs, tokens
from . import forms
from .org_pages import OrgPage
from .web import Page, PageRequest, Redirect, confirm_first, page_route

bp = Blueprint(__name__)

LIFETIMES = (30, 90, 180, 365)


def lifetimes(top: int | None = None) -> list[int]:
    """Expiry choices in days up to ``top`` (tokens' maximum by default), the maximum itself always offered."""
    top = get_settings().token_max_days if top is None else top
    choices = [d for d in LIFETIMES if d < top]
    return [*choices, top]


def expiry_in(req: PageRequest, choices: list[int]) -> datetime:
    """The expiry a form's ``days`` choice gives, from now; a choice not offered is refused in words."""
    days_typed = req.value("days")
    days = int(days_typed) if days_typed.isdigit() else 0
    if days not in choices:
        raise forms.FormInvalid("days", "Choose one of the offered expiry times.")
    return now() + timedelta(days=days)


def chosen_expiry(req: PageRequest) -> datetime:
    """A token's expiry from the form (one of ``lifetimes()``)."""
    return expiry_in(req, lifetimes())


def issue_form(req: PageRequest) -> tuple[str, datetime]:
    """The name and expiry of an Issue Token form (Token Access and a user's page share it)."""
    body = forms.checked(IssueToken, name=req.value("name").strip())
    return body.name, chosen_expiry(req)


def token_page(req: PageRequest, org_id: str, status: int = 200, **extra: object) -> Page:
    member, page = tokens.own_tokens(org_id, req.actor, limit=100, cursor=req.query("after") or None)
    org = OrgPage(member=member, org_name=orgs.name_of(org_id) or org_id)
    at = now()
    context: dict[str, object] = {
        **org.context("tokens", "Token Access"),
        "tokens": [(t, t.status(at)) for t in page.items],
        "next_cursor": page.next_cursor,
        "lifetimes": lifetimes(),
        "default_days": min(get_settings().token_default_days, get_settings().token_max_days),
        "name": "",
        "error": None,
        "issued": None,
        "base_url": get_settings().public_base_url.rstrip("/"),
    }
    context.update(extra)
    return Page("tokens.html", context, status)


@page_route(bp, "/orgs/{org_id}", summary="An organization's landing page")
def org_home(req: PageRequest, org_id: str) -> Redirect:
    tokens.own_tokens(org_id, req.actor, limit=1)  # a stranger gets the 404 page, not a redirect
    return Redirect(f"/orgs/{org_id}/tokens")


@page_route(bp, "/orgs/{org_id}/tokens", summary="Token Access: the caller's tokens")
def token_access(req: PageRequest, org_id: str) -> Page:
    return token_page(req, org_id)


@page_route(bp, "/orgs/{org_id}/tokens", "POST", summary="Issue Token (secret shown once)")
def issue(req: PageRequest, org_id: str) -> Page:
    typed = req.value("name").strip()
    try:
        name, expires_at = issue_form(req)
    except forms.FormInvalid as exc:
        return token_page(req, org_id, 400, name=typed, error=exc.message)
    token, secret = tokens.issue_own(org_id, req.actor, name, expires_at, once_key=req.once_key())
    return token_page(req, org_id, 201, issued={"token": token, "secret": secret})


@page_route(bp, "/orgs/{org_id}/tokens/{token_id}/revoke", "POST", summary="Revoke one of the caller's tokens")
def revoke(req: PageRequest, org_id: str, token_id: str) -> Page | Redirect:
    tokens.own_tokens(org_id, req.actor, limit=1)  # only a member of the org is asked
    question = confirm_first(
        req,
        title="Revoke token?",
        question="Revoke this token? Anything using it stops working at once.",
        button="Revoke",
        cancel=f"/orgs/{org_id}/tokens",
    )
    if question is not None:
        return question
    tokens.revoke_own(org_id, req.actor, token_id)
    return Redirect(f"/orgs/{org_id}/tokens")
