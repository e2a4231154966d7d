"""The console's permission matrix as data: callers, a context to build requests, and rows.

Rows live in ``tests/test_console_permissions.py`` (the pages of part 1) and
``tests/console_rows_*.py`` (one module per admin area); the test collects
them all and fails when a registered page has no row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.invitations import InviteItem
from chalicelib.domain.models import Actor
from chalicelib.services import invitation_links, invitations, keys, login_links
from chalicelib.storage.invitations import InvitationModel, slot_id
from chalicelib.storage.sessions import SessionModel
from tests.support.console_support import deliver_signins
from tests.support.helpers import Seed
from tests.support.permission_table import CALLERS

ROLES = ("account_admin", "billing_manager", "member")


def admin_of(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="matrix", account_id=seed.admin.account_id)


@dataclass
class Ctx:
    seed: Seed
    caller: str
    account_id: str | None
    email: str | None

    def fresh_code(self) -> str:
        """A live sign-in code for the caller (or the seeded member for anonymous)."""
        email = self.email or self.seed.member.email
        login_links.request_link(email)
        deliver_signins()
        mailed = [i for i in SessionModel.scan() if i.kind == "signin" and i.email == email and i.mailed == "sent"]
        item = max(mailed, key=lambda i: i.item_id)
        return login_links.code_for(item.item_id)

    def fresh_invitation(self) -> str:
        """A link to a new invitation in the seeded org, for a new address."""
        email = f"inv-{uuid.uuid4().hex[:12]}@acme.test"
        invitations.invite(self.seed.org_id, admin_of(self.seed), [InviteItem(email=email, role="member")])
        item = InvitationModel.get(self.seed.org_id, slot_id(self.seed.org_id, email))
        return invitation_links.token_for(self.seed.org_id, item.invitation_id, item.link_nonce)

    def own_key(self) -> str:
        owner = self.account_id or self.seed.admin.account_id
        return keys.issue(owner, "perm")[0].key_id


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int]
    url: Callable[[Ctx], str]
    form: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def each(status: int, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(CALLERS, status)
    table.update(overrides)
    return table


def in_org(roles: int, outsider: int = 404, anonymous: int = 303) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, roles), "outsider": outsider, "anonymous": anonymous}
