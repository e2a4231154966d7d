"""Page: the organization's Settings: name (admin), seat capacity (admin, billing manager), SCIM tokens and
domains (admin)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.errors import (
    CapacityBelowUsage,
    DnsUnavailable,
    DomainAlreadyClaimed,
    DomainNotVerified,
    DomainTaken,
    InvalidDomain,
    InvalidRequest,
    LastAdmin,
    NotFound,
    SeatLimitReached,
)
from ..domain.roles import Permission, Role, allows
from ..http.schemas import RenameOrg, SetCapacity
from ..services import domains, groups, orgs, scim_tokens, service_accounts
from . import forms
from .org_pages import OrgPage, open_org
from .web import Page, PageRequest, Redirect, confirm_first, page_route
from .words import role_name

bp = Blueprint(__name__)


def scim_group_rows(org_id: str, req: PageRequest) -> list[dict[str, Any]]:
    """What each SCIM group grants: the built-in ones, then the groups the IdP pushed, by name."""
    rows = [
        {"name": name, "role": role.value if role else None, "seat": role is None, "built_in": True}
        for name, role in groups.BUILT_IN_GROUPS.values()
    ]
    for group in groups.list_mappings(org_id, req.actor):
        rows.append(
            {
                "group_id": group.group_id,
                "name": group.display_name,
                "role": group.role.value if group.role else None,
                "seat": group.seat,
                "built_in": False,
            }
        )
    return rows


def grant_words(role: Role | None, seat: bool) -> str:
    """What a mapping gives, as the admin reads it: "the Billing manager role and a seat", "nothing"."""
    parts = ([f"the {role_name(role.value)} role"] if role else []) + (["a seat"] if seat else [])
    return " and ".join(parts) or "nothing"


def settings_page(req: PageRequest, org: OrgPage, status: int = 200, **extra: Any) -> Page:
    role = org.member.role
    loaded = orgs.load(org.member.org_id)
    may_scim = allows(role, Permission.MANAGE_SCIM)
    may_domains = allows(role, Permission.MANAGE_DOMAINS)
    may_service_accounts = allows(role, Permission.MANAGE_SERVICE_ACCOUNTS)
    context = org.context(
        "settings",
        "Settings",
        org=loaded,
        may_rename=allows(role, Permission.UPDATE_ORG),
        may_scim=may_scim,
        scim_tokens=scim_tokens.list_tokens(loaded.org_id, req.actor) if may_scim else [],
        scim_groups=scim_group_rows(loaded.org_id, req) if may_scim else [],
        may_domains=may_domains,
        domains=domains.list_domains(loaded.org_id, req.actor) if may_domains else [],
        may_service_accounts=may_service_accounts,
        service_accounts=service_accounts.list_accounts(loaded.org_id, req.actor) if may_service_accounts else [],
        domain_name="",
        domain_error=None,
        domain_result=None,
        domain_failed=False,
        new_domain=None,
        name=loaded.name,
        capacity=str(loaded.seat_capacity),
        name_error=None,
        capacity_error=None,
        scim_name="",
        scim_error=None,
        group_result=None,
        group_failed=False,
        roles=list(Role),
        new_scim=None,
        saved=None,
    )
    context.update(extra)
    return Page("settings.html", context, status)


@page_route(bp, "/orgs/{org_id}/settings", summary="Settings: name, seat capacity, SCIM tokens")
def settings(req: PageRequest, org_id: str) -> Page:
    return settings_page(req, open_org(req, org_id, Permission.SET_CAPACITY))


@page_route(bp, "/orgs/{org_id}/settings/name", "POST", summary="Rename the organization")
def rename(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.UPDATE_ORG)
    typed = req.value("name").strip()
    try:
        body = forms.checked(RenameOrg, name=typed)
    except forms.FormInvalid as exc:
        return settings_page(req, org, 400, name=typed, name_error=exc.message)
    orgs.rename(org_id, req.actor, body.name)
    return settings_page(req, open_org(req, org_id, Permission.SET_CAPACITY), saved="The name was saved.")


@page_route(bp, "/orgs/{org_id}/settings/capacity", "POST", summary="Set the purchased seat capacity")
def capacity(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.SET_CAPACITY)
    typed = req.value("capacity").strip()
    try:
        if not typed.isdigit():
            raise forms.FormInvalid("capacity", "Seat capacity is a whole number, like 25.")
        body = forms.checked(SetCapacity, capacity=int(typed))
        orgs.set_capacity(org_id, req.actor, body.capacity)
    except forms.FormInvalid as exc:
        return settings_page(req, org, 400, capacity=typed, capacity_error=exc.message)
    except CapacityBelowUsage as exc:
        return settings_page(req, org, 409, capacity=typed, capacity_error=f"{exc.message} Nothing was changed.")
    return settings_page(req, org, saved=f"Seat capacity is now {body.capacity}.")


@page_route(bp, "/orgs/{org_id}/settings/scim-tokens", "POST", summary="Create a SCIM token (shown once)")
def create_scim_token(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_SCIM)
    typed = req.value("name").strip()
    try:
        body = forms.checked(RenameOrg, name=typed)  # the same name rules
    except forms.FormInvalid as exc:
        return settings_page(req, org, 400, scim_name=typed, scim_error=exc.message.replace("Name", "Token name"))
    token, secret = scim_tokens.issue(org_id, req.actor, body.name)
    return settings_page(req, org, 201, new_scim={"token": token, "secret": secret})


@page_route(bp, "/orgs/{org_id}/settings/scim-tokens/{token_id}/revoke", "POST", summary="Revoke a SCIM token")
def revoke_scim_token(req: PageRequest, org_id: str, token_id: str) -> Page | Redirect:
    open_org(req, org_id, Permission.MANAGE_SCIM)
    question = confirm_first(
        req,
        title="Revoke SCIM token?",
        question="Revoke this SCIM token? The identity provider using it can no longer provision.",
        button="Revoke",
        cancel=f"/orgs/{org_id}/settings",
    )
    if question is not None:
        return question
    scim_tokens.revoke(org_id, req.actor, token_id)
    return Redirect(f"/orgs/{org_id}/settings")


@page_route(bp, "/orgs/{org_id}/settings/domains", "POST", summary="Claim a domain (shows the DNS TXT record)")
def claim_domain(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_DOMAINS)
    typed = req.value("domain").strip()
    try:
        claimed = domains.claim(org_id, req.actor, typed)
    except InvalidDomain:
        error = "That is not a domain name. Type one like acme.example (no @, no https://)."
        return settings_page(req, org, 400, domain_name=typed, domain_error=error)
    except DomainAlreadyClaimed:
        error = f"{typed} is already in the list below. Nothing was changed."
        return settings_page(req, org, 409, domain_name=typed, domain_error=error)
    return settings_page(req, org, 201, new_domain=claimed)


@page_route(bp, "/orgs/{org_id}/settings/domains/{domain}/verify", "POST", summary="Verify a domain by DNS")
def verify_domain(req: PageRequest, org_id: str, domain: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_DOMAINS)
    try:
        done = domains.verify(org_id, req.actor, domain)
    except DomainNotVerified as exc:
        details = exc.details or {}
        result = (
            f"Not verified yet: no TXT record {details.get('expected_value')} was found at "
            f"{details.get('record_name')}. Add it at your DNS provider, wait a few minutes, and press Verify again."
        )
        return settings_page(req, org, 409, domain_result=result, domain_failed=True)
    except DomainTaken:
        result = "Not verified: another organization has verified this domain. Nothing was changed."
        return settings_page(req, org, 409, domain_result=result, domain_failed=True)
    except DnsUnavailable:
        result = "The DNS lookup did not complete. Nothing was changed; try again in a minute."
        return settings_page(req, org, 503, domain_result=result, domain_failed=True)
    result = f"{done.domain} is verified: people with addresses there can be added directly."
    return settings_page(req, org, domain_result=result)


@page_route(bp, "/orgs/{org_id}/settings/domains/{domain}/remove", "POST", summary="Remove a domain")
def remove_domain(req: PageRequest, org_id: str, domain: str) -> Page | Redirect:
    open_org(req, org_id, Permission.MANAGE_DOMAINS)
    question = confirm_first(
        req,
        title="Remove domain?",
        question=f"Remove {domain}? People already added stay; new addresses there get an invitation instead.",
        button="Remove",
        cancel=f"/orgs/{org_id}/settings",
    )
    if question is not None:
        return question
    domains.release(org_id, req.actor, domain)
    return Redirect(f"/orgs/{org_id}/settings")


@page_route(
    bp, "/orgs/{org_id}/settings/scim-groups/{group_id}", "POST", summary="Map a SCIM group to a role and/or a seat"
)
def map_scim_group(req: PageRequest, org_id: str, group_id: str) -> Page:
    """The form on each pushed group's row: its members get the new grant at once, or nothing changes."""
    org = open_org(req, org_id, Permission.MANAGE_SCIM)
    typed_role, seat = req.value("role"), req.value("seat") == "yes"
    if typed_role not in ("", *(r.value for r in Role)):
        return settings_page(req, org, 400, group_result="Choose a role from the list.", group_failed=True)
    role = Role(typed_role) if typed_role else None
    try:
        if role is None and not seat:
            groups.remove_mapping(org_id, req.actor, group_id)
            group = groups.resolve_ref(org_id, group_id)
        else:
            group = groups.set_mapping(org_id, req.actor, group_id, role, seat)
    except SeatLimitReached as exc:
        result = f"Not saved: {exc.message} Nothing was changed; free seats or raise the capacity first."
        return settings_page(req, org, 402, group_result=result, group_failed=True)
    except LastAdmin:
        result = "Not saved: the organization would have no account admin left. Nothing was changed."
        return settings_page(req, org, 409, group_result=result, group_failed=True)
    except (NotFound, InvalidRequest):
        result = "That group is no longer there or cannot be mapped (the identity provider may have deleted it)."
        return settings_page(req, org, 404, group_result=result, group_failed=True)
    result = f"{group.display_name} now gives its members {grant_words(role, seat)}."
    return settings_page(req, org, group_result=result)
