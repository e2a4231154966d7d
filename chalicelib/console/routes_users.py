"""Pages: the organization's users (admin area): the member list, seats and roles, one user's detail.

Each change is one form post that calls the same service as the JSON API;
the page then says what happened in words (a role="status" block) or, when a
rule refused it, why (role="alert"). Rules stay in the services: handlers
only choose what to show. A billing manager sees the same pages read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint

from ..clock import now
from ..domain.errors import DomainError
from ..domain.models import Actor, AuditEntry, Member
from ..domain.outcomes import Outcome
from ..domain.roles import Permission, Role, allows
from ..http.schemas_seats import BulkSeats
from ..services import audit, members, orgs, seats, tokens
from . import forms
from .org_pages import OrgPage, open_org
from .routes_tokens import chosen_expiry, issue_form, lifetimes
from .web import Page, PageRequest, Redirect, confirm_first, page_route
from .words import role_name, seats_taken

bp = Blueprint(__name__)

PAGE_SIZE = 50
AUDIT_SHOWN = 20
AUDIT_PAGES = 5  # a user's page reads at most this many query pages of the audit log (newest first)...
AUDIT_READ = 100  # ...each reading this many entries, whoever they are about (DynamoDB filters after reading)
ROLE_BUTTONS = {
    Role.ACCOUNT_ADMIN: "Assign as Account Admin",
    Role.BILLING_MANAGER: "Assign as Billing Manager",
    Role.MEMBER: "Assign as Member",
}
OWN_ROLE_REASON = "Administrators cannot change their own role."
# Why a token was not renewed, per error code; {email} is the token's owner.
RENEW_REFUSALS = {
    "not_found": "{email} has no such token, so nothing was renewed.",
    "token_revoked": "This token was revoked (or the seat it stood on ended), so it cannot be renewed. "
    "Issue a new token instead.",
    "invalid_request": "{message} Nothing was renewed.",
}
SELECT_MODES = ("assign", "revoke")

# Why a change was refused, per error code, in words; {email} is the user, {org} the organization.
REFUSALS = {
    "last_admin": "{org} must keep at least one Account Admin, so nothing was changed. "
    "Make someone else an Account Admin first.",
    "seat_limit_reached": "{seats_taken}, so {email} did not get one. Revoke a seat or raise the capacity first.",
    "seat_already_assigned": "{email} already has a seat, so nothing was changed.",
    "no_seat": "{email} has no seat to revoke, so nothing was changed.",
    "cannot_change_own_role": OWN_ROLE_REASON,
    "seat_required": "{email} has no seat, so no token was issued. Assign a seat first.",
    "conflict": "Someone else changed {email} at the same moment. Nothing was changed; try again.",
}


@dataclass(frozen=True)
class Filters:
    """What the list shows: the search and filters of the GET form, the page, and the select mode."""

    email: str = ""
    role: Role | None = None
    seat: str = ""  # "", "yes" or "no"
    after: str = ""
    select: str = ""  # "", "assign" or "revoke": a checkbox per row for the bulk change

    @property
    def has_seat(self) -> bool | None:
        if self.select == "assign":
            return False  # only those without a seat can get one
        if self.select == "revoke":
            return True
        return {"yes": True, "no": False}.get(self.seat)

    def link(self, **changes: str) -> str:
        """The query string of this view with ``changes`` (for Next page and the mode links)."""
        values = {"email": self.email, "role": self.role.value if self.role else "", "seat": self.seat}
        values.update({"select": self.select, "after": ""}, **changes)
        return urlencode({k: v for k, v in values.items() if v})


def read_filters(req: PageRequest) -> Filters:
    role = req.query("role")
    seat = req.query("seat")
    select = req.query("select")
    return Filters(
        email=req.query("email").strip()[:320],
        role=Role(role) if role in {r.value for r in Role} else None,
        seat=seat if seat in ("yes", "no") else "",
        after=req.query("after"),
        select=select if select in SELECT_MODES else "",
    )


def abilities(member: Member) -> dict[str, bool]:
    """Which buttons the caller's role gets (the services check again on every post)."""
    role = member.role
    return {
        "seats": allows(role, Permission.MANAGE_SEATS),
        "roles": allows(role, Permission.MANAGE_ROLES),
        "remove": allows(role, Permission.MANAGE_MEMBERS),
        "tokens": allows(role, Permission.MANAGE_TOKENS),
        "audit": allows(role, Permission.READ_AUDIT),
    }


def users_page(
    req: PageRequest,
    org_id: str,
    status: int = 200,
    *,
    filters: Filters | None = None,
    result: list[str] | None = None,
    error: str | None = None,
) -> Page:
    org = open_org(req, org_id, Permission.READ_MEMBERS)
    shown = filters if filters is not None else read_filters(req)
    can = abilities(org.member)
    if not can["seats"]:
        shown = replace(shown, select="")
    listed = members.list_members(
        org_id,
        req.actor,
        role=shown.role,
        seat=shown.has_seat,
        email_prefix=shown.email or None,
        limit=PAGE_SIZE,
        cursor=shown.after or None,
    )
    context = org.context(
        "users",
        "Users",
        users=listed.items,
        next_link=shown.link(after=listed.next_cursor) if listed.next_cursor else None,
        filters=shown,
        roles=list(Role),
        role_buttons=ROLE_BUTTONS,
        own_role_reason=OWN_ROLE_REASON,
        org_seats=orgs.load(org_id),
        can=can,
        result=result,
        error=error,
        assign_link=shown.link(select="assign"),
        revoke_link=shown.link(select="revoke"),
        list_link=shown.link(select=""),
    )
    return Page("users.html", context, status)


@dataclass(frozen=True)
class Target:
    """The caller's page of the org and the user a change is about."""

    org: OrgPage
    user: Member


def target(req: PageRequest, org_id: str, account_id: str, permission: Permission) -> Target:
    org = open_org(req, org_id, permission)
    return Target(org, members.get_member(org_id, req.actor, account_id))


def refusal(code: str, target: Target) -> str | None:
    sentence = REFUSALS.get(code)
    if sentence is None:
        return None
    capacity = orgs.load(target.org.member.org_id).seat_capacity if code == "seat_limit_reached" else 0
    return sentence.format(email=target.user.email, org=target.org.org_name, seats_taken=seats_taken(capacity))


def outcome(req: PageRequest, org_id: str, who: Target, change: Callable[[], str]) -> Page:
    """Run a change and show its page again: what happened (status) or why not (alert, with its status)."""
    back = req.value("back")
    try:
        message = change()
    except DomainError as exc:
        sentence = refusal(exc.code, who)
        if sentence is None:
            raise
        if back == "detail":
            return detail_page(req, org_id, who.user.account_id, exc.status, error=sentence)
        return users_page(req, org_id, exc.status, filters=Filters(), error=sentence)
    if back == "detail" and members.find(org_id, who.user.account_id) is not None:
        return detail_page(req, org_id, who.user.account_id, result=[message])
    return users_page(req, org_id, filters=Filters(), result=[message])


# --- the list ----------------------------------------------------------------------------------------


@page_route(bp, "/orgs/{org_id}/users", summary="Users: members with role and seat; search, filters, paging")
def users(req: PageRequest, org_id: str) -> Page:
    return users_page(req, org_id)


@page_route(bp, "/orgs/{org_id}/users/{account_id}/seat", "POST", summary="Assign Seat to one user")
def assign_seat(req: PageRequest, org_id: str, account_id: str) -> Page:
    who = target(req, org_id, account_id, Permission.MANAGE_SEATS)

    def change() -> str:
        seats.assign(org_id, req.actor, account_id)
        return f"{who.user.email} has a seat now and was emailed a link to Token Access."

    return outcome(req, org_id, who, change)


@page_route(bp, "/orgs/{org_id}/users/{account_id}/seat/revoke", "POST", summary="Revoke Seat of one user")
def revoke_seat(req: PageRequest, org_id: str, account_id: str) -> Page:
    who = target(req, org_id, account_id, Permission.MANAGE_SEATS)
    question = confirm_first(
        req,
        title="Revoke seat?",
        question=revoke_question(who.user.email),
        button="Revoke Seat",
        cancel=f"/orgs/{org_id}/users",
    )
    if question is not None:
        return question

    def change() -> str:
        seats.revoke(org_id, req.actor, account_id)
        return f"The seat of {who.user.email} was revoked; their tokens no longer work."

    return outcome(req, org_id, who, change)


def revoke_question(email: str) -> str:
    return f"Revoke the seat of {email}? Their tokens stop working at once; they stay a member."


@page_route(bp, "/orgs/{org_id}/users/{account_id}/role/{role}", "POST", summary="Assign as Account Admin, …")
def assign_role(req: PageRequest, org_id: str, account_id: str, role: str) -> Page:
    who = target(req, org_id, account_id, Permission.MANAGE_ROLES)
    if role not in {r.value for r in Role}:
        return users_page(req, org_id, 400, filters=Filters(), error="There is no such role. Nothing was changed.")
    new_role = Role(role)
    question = confirm_first(
        req,
        title="Confirm your role assignment",
        question=role_question(who.user.email, new_role),
        button=ROLE_BUTTONS[new_role],
        cancel=f"/orgs/{org_id}/users",
    )
    if question is not None:
        return question

    def change() -> str:
        members.change_role(org_id, req.actor, account_id, new_role)
        return f"{who.user.email} is now {article(new_role)} {role_name(new_role)}."

    return outcome(req, org_id, who, change)


def article(role: Role) -> str:
    return "an" if role is Role.ACCOUNT_ADMIN else "a"


def role_question(email: str, role: Role) -> str:
    return f"Make {email} {article(role)} {role_name(role)}? Their permissions change at once."


@page_route(bp, "/orgs/{org_id}/users/{account_id}/remove", "POST", summary="Remove from Organization")
def remove(req: PageRequest, org_id: str, account_id: str) -> Page:
    who = target(req, org_id, account_id, Permission.MANAGE_MEMBERS)
    question = confirm_first(
        req,
        title="Remove user?",
        question=remove_question(who.user.email, who.org.org_name),
        button="Remove User",
        cancel=f"/orgs/{org_id}/users",
    )
    if question is not None:
        return question

    def change() -> str:
        members.remove_member(org_id, req.actor, account_id)
        return f"{who.user.email} was removed from {who.org.org_name}; their seat and tokens ended."

    return outcome(req, org_id, who, change)


def remove_question(email: str, org_name: str) -> str:
    return f"Remove {email} from {org_name}? Their seat and tokens end at once."


# --- many at once ------------------------------------------------------------------------------------

BULK_TITLES = {"assign": ("Assign seats?", "Assign"), "revoke": ("Revoke seats?", "Revoke")}
BULK_WORDS = {
    "assign": {
        Outcome.ASSIGNED: "Seats assigned to: {who}.",
        Outcome.SEAT_LIMIT_REACHED: "No seat left for: {who}. {seats_taken}; "
        "revoke seats or raise the capacity, then assign them again.",
        Outcome.ALREADY_ASSIGNED: "Already had a seat: {who}.",
        Outcome.NOT_MEMBER: "No longer members: {who}.",
    },
    "revoke": {
        Outcome.REVOKED: "Seats revoked from: {who}; their tokens no longer work.",
        Outcome.NO_SEAT: "Had no seat: {who}.",
        Outcome.NOT_MEMBER: "No longer members: {who}.",
    },
}


def chosen(req: PageRequest) -> list[str]:
    """The ticked rows; "select all" means every row of the page (it works without script too)."""
    if req.value("all") == "yes":
        return req.values("page_ids")
    return req.values("account_id")


def bulk(req: PageRequest, org_id: str, kind: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_SEATS)
    ids = list(dict.fromkeys(chosen(req)))
    if not ids:
        return users_page(req, org_id, 400, filters=Filters(select=kind), error="Select at least one user.")
    try:
        forms.checked(BulkSeats, account_ids=ids)
    except forms.FormInvalid:
        return users_page(req, org_id, 400, filters=Filters(select=kind), error="Select fewer users at once.")
    people = {a: m.email for a in ids if (m := members.find(org_id, a)) is not None}
    if req.value("confirmed") != "yes":
        title, button = BULK_TITLES[kind]
        context = org.context(
            "users", title, kind=kind, people=[(a, people[a]) for a in ids if a in people], button=button
        )
        return Page("users_confirm.html", {**context, "org_seats": orgs.load(org_id)})
    change = seats.assign_many if kind == "assign" else seats.revoke_many
    results = change(org_id, req.actor, ids)
    capacity = orgs.load(org_id).seat_capacity
    lines = []
    for status, sentence in BULK_WORDS[kind].items():
        who = [people.get(r.account_id, r.account_id) for r in results if r.status == status]
        if who:
            lines.append(sentence.format(who=", ".join(who), seats_taken=seats_taken(capacity)))
    return users_page(req, org_id, filters=Filters(), result=lines)


@page_route(bp, "/orgs/{org_id}/users/seats/assign", "POST", summary="Assign Seats: Assign Users, then Assign")
def assign_many(req: PageRequest, org_id: str) -> Page:
    return bulk(req, org_id, "assign")


@page_route(bp, "/orgs/{org_id}/users/seats/revoke", "POST", summary="Revoke Seats: Revoke Users, then Revoke")
def revoke_many(req: PageRequest, org_id: str) -> Page:
    return bulk(req, org_id, "revoke")


# --- one user ----------------------------------------------------------------------------------------


def entries_about(org_id: str, actor: Actor, account_id: str) -> list[AuditEntry]:
    """The newest audit entries about the user (at most AUDIT_SHOWN), among the org's latest
    AUDIT_PAGES x AUDIT_READ entries (one query request each; older entries about the user are
    on the Audit Log page, its Target filter)."""
    return audit.recent_about(org_id, actor, account_id, shown=AUDIT_SHOWN, pages=AUDIT_PAGES, read_each=AUDIT_READ)


def detail_page(
    req: PageRequest,
    org_id: str,
    account_id: str,
    status: int = 200,
    **extra: Any,
) -> Page:
    org = open_org(req, org_id, Permission.READ_MEMBERS)
    user = members.get_member(org_id, req.actor, account_id)
    can = abilities(org.member)
    at = now()
    listed = tokens.list_for(org_id, req.actor, account_id, limit=100).items if can["tokens"] else []
    context = org.context(
        "users",
        user.email,
        user=user,
        own=user.account_id == org.member.account_id,
        can=can,
        role_buttons=ROLE_BUTTONS,
        own_role_reason=OWN_ROLE_REASON,
        tokens=[(t, t.status(at)) for t in listed],
        entries=entries_about(org_id, req.actor, account_id) if can["audit"] else [],
        lifetimes=lifetimes(),
        default_days=lifetimes()[0],
        name="",
        token_error=None,
        issued=None,
        result=None,
        error=None,
    )
    context.update(extra)
    return Page("user_detail.html", context, status)


@page_route(bp, "/orgs/{org_id}/users/{account_id}", summary="One user: role, seat, tokens, audit entries")
def user_detail(req: PageRequest, org_id: str, account_id: str) -> Page:
    return detail_page(req, org_id, account_id)


@page_route(bp, "/orgs/{org_id}/users/{account_id}/tokens", "POST", summary="Issue a token for a user")
def issue_for(req: PageRequest, org_id: str, account_id: str) -> Page:
    who = target(req, org_id, account_id, Permission.MANAGE_TOKENS)
    typed = req.value("name").strip()
    try:
        name, expires_at = issue_form(req)
    except forms.FormInvalid as exc:
        return detail_page(req, org_id, account_id, 400, name=typed, token_error=exc.message)
    try:
        token, secret = tokens.issue_for(org_id, req.actor, account_id, name, expires_at, once_key=req.once_key())
    except DomainError as exc:
        sentence = refusal(exc.code, who)
        if sentence is None:
            raise
        return detail_page(req, org_id, account_id, exc.status, name=typed, token_error=sentence)
    return detail_page(req, org_id, account_id, 201, issued={"token": token, "secret": secret})


@page_route(bp, "/orgs/{org_id}/users/{account_id}/tokens/{token_id}/revoke", "POST", summary="Revoke a user's token")
def revoke_token(req: PageRequest, org_id: str, account_id: str, token_id: str) -> Page | Redirect:
    target(req, org_id, account_id, Permission.MANAGE_TOKENS)
    question = confirm_first(
        req,
        title="Revoke token?",
        question="Revoke this token? Anything using it stops working at once.",
        button="Revoke",
        cancel=f"/orgs/{org_id}/users/{account_id}",
    )
    if question is not None:
        return question
    tokens.revoke_for(org_id, req.actor, account_id, token_id)
    return Redirect(f"/orgs/{org_id}/users/{account_id}")


@page_route(bp, "/orgs/{org_id}/users/{account_id}/tokens/{token_id}/renew", "POST", summary="Renew a user's token")
def renew_token(req: PageRequest, org_id: str, account_id: str, token_id: str) -> Page:
    who = target(req, org_id, account_id, Permission.MANAGE_TOKENS)
    try:
        token = tokens.renew(org_id, req.actor, account_id, token_id, chosen_expiry(req))
    except forms.FormInvalid as exc:
        return detail_page(req, org_id, account_id, 400, error=exc.message)
    except DomainError as exc:
        sentence = RENEW_REFUSALS.get(exc.code)
        if sentence is None:
            raise
        return detail_page(
            req, org_id, account_id, exc.status, error=sentence.format(email=who.user.email, message=exc.message)
        )
    from .render import day  # Jinja2's module: loaded with the page, never at import

    return detail_page(req, org_id, account_id, result=[f"Token “{token.name}” renewed until {day(token.expires_at)}."])
