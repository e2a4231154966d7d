"""Routes: the audit log and health."""

from __future__ import annotations

from datetime import UTC

from chalice import Blueprint

from ..domain.roles import Scope
from ..services import audit, health
from . import present, schemas
from .routing import ApiRequest, api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/v1/orgs/{org_id}/audit-log",
    "GET",
    scope=Scope.AUDIT_READ,
    summary="Every change in the org, newest first (admin)",
    query=schemas.AuditQuery,
    response=schemas.AuditList,
    errors=("not_found", "forbidden"),
)
def list_audit_log(req: ApiRequest, org_id: str) -> schemas.AuditList:
    q: schemas.AuditQuery = req.query
    since = q.since.replace(tzinfo=UTC) if q.since and q.since.tzinfo is None else q.since
    result = audit.list_entries(
        org_id, req.actor, action=q.action, actor=q.actor, target=q.target, since=since, limit=q.limit, cursor=q.cursor
    )
    return schemas.AuditList(items=[present.audit_entry(e) for e in result.items], next_cursor=result.next_cursor)


@api_route(
    bp, "/v1/health", "GET", summary="200 when every table is reachable", auth="none", response=schemas.HealthOut
)
def get_health(req: ApiRequest) -> schemas.HealthOut:
    return schemas.HealthOut(status="ok", tables=health.check_tables())
