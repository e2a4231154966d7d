"""Page: the organization's Audit Log, newest first, with filters and paging."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint

from ..domain.roles import Permission
from ..http.schemas import AuditQuery
from ..services import audit
from . import forms
from .org_pages import open_org
from .web import Page, PageRequest, page_route

bp = Blueprint(__name__)

FILTERS = ("action", "actor", "target")


@page_route(bp, "/orgs/{org_id}/audit-log", summary="Audit Log: every change in the org, newest first")
def audit_log(req: PageRequest, org_id: str) -> Page:
    org = open_org(req, org_id, Permission.READ_AUDIT)
    typed = {name: req.query(name).strip() for name in FILTERS}
    typed["since"] = req.query("since")
    error = None
    error_field = None
    entries: list[object] = []
    next_cursor = None
    try:
        since = datetime.fromisoformat(typed["since"]).replace(tzinfo=UTC) if typed["since"] else None
        query = forms.checked(
            AuditQuery,
            **{name: typed[name] or None for name in FILTERS},
            since=since,
            cursor=req.query("after") or None,
        )
        result = audit.list_entries(
            org_id,
            req.actor,
            action=query.action,
            actor=query.actor,
            target=query.target,
            since=query.since,
            limit=50,
            cursor=query.cursor,
        )
        entries, next_cursor = list(result.items), result.next_cursor
    except forms.FormInvalid as exc:
        error, error_field = exc.message, exc.field
    except ValueError:
        error, error_field = "Since must be a date, like 2026-12-01.", "since"
    context = org.context(
        "audit",
        "Audit Log",
        entries=entries,
        next_cursor=next_cursor,
        typed=typed,
        error=error,
        error_field=error_field,
    )
    return Page("audit.html", context, 400 if error else 200)
