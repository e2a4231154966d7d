"""Pages: the organization's invitations (web console, admin area).

Invite by typed addresses or a CSV upload, resend or remove one invitation or
many (a selection, then a confirmation). Every rule stays in
``services.invitations``; these handlers only read forms, call it, and say the
per-item outcomes in words. Upload results can be downloaded as CSV: they
travel back in the form (compressed), so nothing is stored for it.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import zlib
from typing import Any

from chalice import Blueprint, Response

from ..domain.errors import InvalidCsv, TooManyRows
from ..domain.invitations import STATUSES, BulkOutcome, InviteItem
from ..domain.models import Principal
from ..domain.roles import Permission, Role
from ..services import invitation_changes, invitation_csv, invitations, orgs
from .org_pages import OrgPage, open_org
from .web import SECURITY_HEADERS, Page, PageRequest, confirm_first, page_route

bp = Blueprint(__name__)

PER_PAGE = 50
STATUS_CHOICES = ("all", *STATUSES)
SELECT_MODES = ("resend", "remove")
# Which rows a bulk action can change (the service decides; this only hides useless checkboxes).
SELECTABLE = {"resend": {"pending", "expired", "revoked"}, "remove": {"pending", "expired"}}

INVITE_WORDS = {
    "invited": "invited",
    "already_invited": "already invited",
    "already_member": "already a member",
    "invalid_email": "not an email",
    "invalid_role": "not a role",
    "duplicate_in_request": "duplicate",
    "invitation_quota_exceeded": "over today's invitation limit (try again tomorrow)",
}
RESEND_WORDS = {
    "resent": "resent",
    "already_accepted": "already accepted",
    "already_member": "already a member",
    "not_found": "not found",
    "duplicate_in_request": "duplicate",
    "resend_too_soon": "sent a moment ago (wait a few minutes)",
    "resend_quota_exceeded": "over today's resend limit (try again tomorrow)",
}
REMOVE_WORDS = {
    "removed": "removed",
    "already_removed": "already removed",
    "already_accepted": "already accepted",
    "not_found": "not found",
    "duplicate_in_request": "duplicate",
}
DELIVERY_WORDS = {"queued": "Queued", "sending": "Sending", "sent": "Sent", "failed": "Failed"}
MAX_RESULTS_BYTES = 512 * 1024  # a download token never inflates past this
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def principal_of(req: PageRequest) -> Principal | None:
    """Who is signed in (the service names them as the inviter in the email without a lookup)."""
    return req.session.principal if req.session else None


def split_emails(typed: str) -> list[str]:
    """Addresses typed without script: separated by commas, semicolons, spaces or new lines."""
    return [part for part in re.split(r"[\s,;]+", typed) if part]


def role_of(typed: str) -> Role | None:
    try:
        return Role(typed)
    except ValueError:
        return None


def in_words(summary: dict[str, int], words: dict[str, str]) -> str:
    """A summary such as "2 invited, 1 already a member" (zero counts left out)."""
    parts = [f"{summary[code]} {word}" for code, word in words.items() if summary.get(code)]
    return ", ".join(parts) or "nothing changed"


def invite_rows(outcome: BulkOutcome) -> list[dict[str, Any]]:
    return [
        {
            "line": r.line,
            "email": r.email,
            "status": r.status,
            "word": INVITE_WORDS.get(r.status, r.status.replace("_", " ")),
            "message": r.message or "",
        }
        for r in outcome.results
    ]


def pack(rows: list[dict[str, Any]]) -> str:
    """Upload results as a form value for the download (compressed JSON, URL-safe base64)."""
    data = json.dumps([[r["line"], r["email"], r["word"], r["message"]] for r in rows]).encode()
    return base64.urlsafe_b64encode(zlib.compress(data, 9)).decode()


def unpack(token: str) -> list[list[Any]]:
    """The rows of a download token; anything malformed (or inflating too far) is no rows."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.urlsafe_b64decode(token.encode()), MAX_RESULTS_BYTES)
        if inflater.unconsumed_tail:
            return []
        rows = json.loads(data)
    except (binascii.Error, zlib.error, ValueError):
        return []
    if not isinstance(rows, list):
        return []
    return [[str(c) if c is not None else "" for c in row] for row in rows if isinstance(row, list) and len(row) == 4]


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP: prefix with a single quote)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def list_page(req: PageRequest, org: OrgPage, status: int = 200, **extra: Any) -> Page:
    """The Invitations page: seat meter, forms, the (filtered, paged) table, and any outcome."""
    org_id = org.member.org_id
    chosen = req.query("status", "all")
    chosen = chosen if chosen in STATUS_CHOICES else "all"
    select = extra.pop("select", None) or req.query("select")
    select = select if select in SELECT_MODES else None
    listed = invitations.list_invitations(
        org_id,
        req.actor,
        status=None if chosen == "all" else chosen,
        limit=PER_PAGE,
        cursor=req.query("after") or None,
    )
    rows = [{"inv": i, "selectable": select is not None and i.status in SELECTABLE[select]} for i in listed.items]
    context: dict[str, Any] = {
        **org.context("invitations", "Invitations"),
        "org": orgs.load(org_id),
        "rows": rows,
        "next_cursor": listed.next_cursor,
        "status_filter": chosen,
        "status_choices": STATUS_CHOICES,
        "select": select,
        "roles": list(Role),
        "delivery_words": DELIVERY_WORDS,
        "typed": "",
        "typed_role": Role.MEMBER.value,
        "invite_error": None,
        "upload_error": None,
        "invite_results": None,
        "invite_summary": None,
        "upload_results": None,
        "upload_token": None,
        "upload_name": "",
        "select_error": None,
        "notice": None,
    }
    context.update(extra)
    return Page("invitations.html", context, status)


@page_route(bp, "/orgs/{org_id}/invitations", summary="Invitations: list, filter, invite, resend, remove")
def invitations_page(req: PageRequest, org_id: str) -> Page:
    return list_page(req, open_org(req, org_id, Permission.MANAGE_INVITATIONS))


@page_route(bp, "/orgs/{org_id}/invitations", "POST", summary="Invite Members (typed addresses)")
def invite(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_INVITATIONS)
    typed = "\n".join(req.values("emails")).strip()
    role = role_of(req.value("role"))
    emails = split_emails(typed)
    if role is None or not emails:
        message = "Choose one of the offered roles." if role is None else "Type at least one email address."
        return list_page(req, org, 400, typed=typed, invite_error=message)
    outcome = invitations.invite(
        org_id, req.actor, [InviteItem(email=e) for e in emails], role, principal=principal_of(req)
    )
    return list_page(
        req,
        org,
        typed_role=role.value,
        invite_results=invite_rows(outcome),
        invite_summary=in_words(outcome.summary, INVITE_WORDS),
    )


@page_route(
    bp,
    "/orgs/{org_id}/invitations/upload",
    "POST",
    summary="Bulk Upload: invite from a .csv file",
    content_types=["multipart/form-data", "application/x-www-form-urlencoded"],
)
def upload(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_INVITATIONS)
    role = role_of(req.value("role")) or Role.MEMBER
    sent = [f for f in req.files.get("file", []) if f.data]
    if not sent:
        return list_page(req, org, 400, upload_error="Choose a .csv file to upload.")
    try:
        rows = invitation_csv.parse(sent[0].data)
    except (InvalidCsv, TooManyRows) as exc:
        return list_page(
            req, org, 400, upload_error=f"{exc.message} Nothing was changed.", upload_name=sent[0].filename
        )
    items = [InviteItem(email=r.email, role=r.role, line=r.line) for r in rows]
    outcome = invitations.invite(org_id, req.actor, items, role, principal=principal_of(req))
    results = invite_rows(outcome)
    return list_page(
        req,
        org,
        upload_results=results,
        upload_token=pack(results),
        upload_name=sent[0].filename,
        invite_summary=in_words(outcome.summary, INVITE_WORDS),
    )


@page_route(bp, "/orgs/{org_id}/invitations/upload-results", "POST", summary="Download upload results as CSV")
def upload_results(req: PageRequest, org_id: str) -> Response | Page:
    org = open_org(req, org_id, Permission.MANAGE_INVITATIONS)
    rows = unpack(req.value("results"))
    if not rows:
        return list_page(req, org, 400, upload_error="There are no upload results to download; upload a file first.")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line", "email", "result", "detail"])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="invitation-results.csv"',
    }
    return Response(body=out.getvalue().encode("utf-8"), status_code=200, headers=headers)


@page_route(bp, "/orgs/{org_id}/invitations/{invitation_id}/resend", "POST", summary="Resend Email Invite")
def resend_one(req: PageRequest, org_id: str, invitation_id: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_INVITATIONS)
    sent = invitation_changes.resend(org_id, req.actor, invitation_id, principal_of(req))
    return list_page(req, org, notice=f"Invitation to {sent.email} sent again; it expires {sent.expires_at:%d %b %Y}.")


@page_route(bp, "/orgs/{org_id}/invitations/{invitation_id}/remove", "POST", summary="Remove Invite (asks first)")
def remove_one(req: PageRequest, org_id: str, invitation_id: str) -> Page:
    org = open_org(req, org_id, Permission.MANAGE_INVITATIONS)
    invitation = invitations.get_invitation(org_id, req.actor, invitation_id)
    question = confirm_first(
        req,
        title="Remove invitation?",
        question=f"Remove the invitation to {invitation.email}? Its link stops working at once.",
        button="Remove Invite",
        cancel=f"/orgs/{org_id}/invitations",
    )
    if question is not None:
        question.context.update(org.context("invitations", "Remove invitation?"))
        return question
    invitation_changes.remove(org_id, req.actor, invitation_id)
    return list_page(req, org, notice=f"Invitation to {invitation.email} removed; its link no longer works.")


def bulk(req: PageRequest, org_id: str, mode: str) -> Page:
    """Selection, then a confirmation with the count, then the outcome in words."""
    org = open_org(req, org_id, Permission.MANAGE_INVITATIONS)
    chosen = req.values("shown") if req.value("all") == "yes" else req.values("invitation_id")
    chosen = list(dict.fromkeys(i for i in chosen if i))
    if not chosen:
        return list_page(req, org, 400, select=mode, select_error="Select at least one invitation.")
    verb = "Resend" if mode == "resend" else "Remove"
    if req.value("confirmed") != "yes":
        count = f"{len(chosen)} invitation{'s' if len(chosen) != 1 else ''}"
        return Page(
            "invitations_confirm.html",
            {
                **org.context("invitations", f"{verb} invitations?"),
                "mode": mode,
                "verb": verb,
                "count": count,
                "chosen": chosen,
                "question": (
                    f"Resend {count}? Each gets a new link that expires in a full period; old links stop working."
                    if mode == "resend"
                    else f"Remove {count}? Their links stop working at once."
                ),
            },
        )
    principal = principal_of(req)
    if mode == "resend":
        outcome = invitation_changes.resend_many(org_id, req.actor, chosen, principal)
        words = RESEND_WORDS
    else:
        outcome = invitation_changes.remove_many(org_id, req.actor, chosen)
        words = REMOVE_WORDS
    return list_page(req, org, notice=f"{verb} invitations: {in_words(outcome.summary, words)}.")


@page_route(bp, "/orgs/{org_id}/invitations/resend", "POST", summary="Resend Invitations (selected, confirmed)")
def resend_many(req: PageRequest, org_id: str) -> Page:
    return bulk(req, org_id, "resend")


@page_route(bp, "/orgs/{org_id}/invitations/remove", "POST", summary="Remove Invitations (selected, confirmed)")
def remove_many(req: PageRequest, org_id: str) -> Page:
    return bulk(req, org_id, "remove")
