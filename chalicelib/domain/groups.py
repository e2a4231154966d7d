"""SCIM groups an identity provider pushes, as stored: a name unique per org, and what the group grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .roles import Role


@dataclass(frozen=True)
class StoredGroup:
    """One pushed group. ``revision`` rises with every change: it is the group's ETag and the condition
    that serializes changes of one group."""

    org_id: str
    group_id: str
    display_name: str
    external_id: str | None
    role: Role | None  # the role the group grants, if mapped
    seat: bool  # whether the group grants a seat
    revision: int
    created_at: datetime
    updated_at: datetime


def name_key(display_name: str) -> str:
    """Group names are unique per org without regard to case (Okta and Entra ID compare them so)."""
    return display_name.strip().casefold()
