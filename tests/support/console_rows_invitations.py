"""Permission-matrix rows for the Invitations pages (admin only: other roles 403, strangers 404)."""

from __future__ import annotations

import uuid

from chalicelib.domain.invitations import InviteItem
from chalicelib.services import invitations
from chalicelib.storage.invitations import slot_id
from tests.support.console_matrix import Ctx, Row, admin_of, in_org


def admin_only(ok: int, anonymous: int = 401) -> dict[str, int]:
    return {**in_org(403, anonymous=anonymous), "account_admin": ok}


def pending_invitation(ctx: Ctx) -> str:
    """A new pending invitation's id in the seeded org (each call its own address)."""
    email = f"row-{uuid.uuid4().hex[:12]}@acme.test"
    invitations.invite(ctx.seed.org_id, admin_of(ctx.seed), [InviteItem(email=email, role="member")])
    return slot_id(ctx.seed.org_id, email)


def base(ctx: Ctx) -> str:
    return f"/orgs/{ctx.seed.org_id}/invitations"


ROWS = [
    Row("GET", "/orgs/{org_id}/invitations", admin_only(200, anonymous=303), base),
    Row(
        "POST",
        "/orgs/{org_id}/invitations",
        admin_only(200),
        base,
        lambda c: {"emails": f"m-{uuid.uuid4().hex[:8]}@acme.test", "role": "member"},
    ),
    # The matrix posts urlencoded forms: no file is a 400 page for the admin, the same refusals for the rest.
    Row("POST", "/orgs/{org_id}/invitations/upload", admin_only(400), lambda c: f"{base(c)}/upload"),
    Row("POST", "/orgs/{org_id}/invitations/upload-results", admin_only(400), lambda c: f"{base(c)}/upload-results"),
    Row(
        "POST",
        "/orgs/{org_id}/invitations/{invitation_id}/resend",
        admin_only(200),
        lambda c: f"{base(c)}/{pending_invitation(c)}/resend",
    ),
    Row(
        "POST",
        "/orgs/{org_id}/invitations/{invitation_id}/remove",
        admin_only(200),
        lambda c: f"{base(c)}/{pending_invitation(c)}/remove",
        lambda c: {"confirmed": "yes"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/invitations/resend",
        admin_only(200),
        lambda c: f"{base(c)}/resend",
        lambda c: {"invitation_id": pending_invitation(c), "confirmed": "yes"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/invitations/remove",
        admin_only(200),
        lambda c: f"{base(c)}/remove",
        lambda c: {"invitation_id": pending_invitation(c), "confirmed": "yes"},
    ),
]
