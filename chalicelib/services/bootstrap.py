"""Operator bootstrap: the first org and its admin, where no API key exists yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..domain.emails import normalize_email
from ..domain.models import Actor
from . import accounts, keys, orgs


@dataclass(frozen=True)
class Bootstrapped:
    org_id: str
    account_id: str
    api_key: str


def bootstrap(org_name: str, admin_email: str, *, seat_capacity: int = 0, key_name: str = "bootstrap") -> Bootstrapped:
    """Create an org whose admin is ``admin_email`` (account created if absent) and an API key for them."""
    account, _ = accounts.get_or_create(normalize_email(admin_email))
    actor = Actor.system("bootstrap", f"bootstrap-{uuid.uuid4()}")
    org = orgs.create_org(actor, org_name, admin=account, seat_capacity=seat_capacity)
    _, secret = keys.issue(account.account_id, key_name)
    return Bootstrapped(org_id=org.org_id, account_id=account.account_id, api_key=secret)
