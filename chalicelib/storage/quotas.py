"""Quotas table (no stream; TTL on ``expires_ttl``).

Keys: ``quota_id`` (hash): ``<scope>#<id>#<kind>#<UTC day>``, e.g.
``org#org_123#invitations#2026-05-01`` or ``account#acc_9#resends#2026-05-01``.
One atomic counter per (scope, kind, day): ``used`` is raised with ``ADD``
inside the very transaction that writes the invitations it counts, conditioned
on ``used <= limit - n``, so concurrent calls can never together pass the limit
(``services.abuse_limits``). DynamoDB TTL deletes a day's items two days later.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .base import register


def quota_id(scope: str, owner: str, kind: str, day: str) -> str:
    return f"{scope}#{owner}#{kind}#{day}"


@register
class QuotaModel(Model):
    class Meta:
        base_name = "quotas"
        table_name = "quotas"
        ttl_attribute = "expires_ttl"

    quota_id = UnicodeAttribute(hash_key=True)
    used = NumberAttribute(default=0)
    expires_ttl = NumberAttribute(null=True)
