"""Domain objects -> response models."""

from __future__ import annotations

from ..domain.models import AuditEntry, Member, Organization
from ..services.keys import ApiKey
from . import schemas


def api_key(key: ApiKey) -> schemas.ApiKeyOut:
    return schemas.ApiKeyOut(
        key_id=key.key_id,
        name=key.name,
        status=key.status,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def org(value: Organization, your_role: str | None = None) -> schemas.OrgOut:
    return schemas.OrgOut(
        org_id=value.org_id,
        name=value.name,
        created_at=value.created_at,
        seats=schemas.SeatsOut(capacity=value.seat_capacity, used=value.seats_used, available=value.seats_available),
        member_count=value.member_count,
        admin_count=value.admin_count,
        your_role=your_role,  # type: ignore[arg-type]
    )


def member(value: Member) -> schemas.MemberOut:
    return schemas.MemberOut(
        org_id=value.org_id,
        account_id=value.account_id,
        email=value.email,
        name=value.name,
        role=value.role,
        seat=value.has_seat,
        seat_assigned_at=value.seat_assigned_at if value.has_seat else None,
        joined_at=value.joined_at,
        updated_at=value.updated_at,
    )


def audit_entry(value: AuditEntry) -> schemas.AuditEntryOut:
    return schemas.AuditEntryOut(
        audit_id=value.audit_id,
        at=value.at,
        actor=value.actor,
        action=value.action,
        target=value.target,
        request_id=value.request_id,
        details=value.details,
    )
