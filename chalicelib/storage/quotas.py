"""Quotas table (no stream; TTL on ``expires_ttl``).

Keys: ``quota_id`` (hash): ``<scope>#<id>#<kind>#<UTC day>``, e.g.
``org#org_123#invitations#2026-05-01`` or ``account#acc_9#resends#2026-05-01``.
One atomic counter per (scope, kind, day): ``used`` is raised with ``ADD``
inside the very transaction that writes the invitations it counts, conditioned
on ``used <= limit - n``, so concurrent calls can never together pass the limit
(``services.abuse_limits``). DynamoDB TTL deletes a day's items two days later.
The sign-in asks and the token endpoint's failed client authentications are
counters of the same kind, per window instead of per day.

This module is the table's repository: services count through its functions,
which take a counter's id and plain numbers; none of them sees an item.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from .base import Failure, Tx, TxItem, register


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


def used(counter: str) -> int:
    """The counter as it stands, read consistently (0 when nothing was counted yet)."""
    try:
        return int(QuotaModel.get(counter, consistent_read=True).used or 0)
    except DoesNotExist:
        return 0


def used_before(old_item: dict[str, Any] | None) -> int | None:
    """The count in the old item a refused charge returned (None when the engine returned none)."""
    if not old_item or "used" not in old_item:
        return None
    return int(old_item["used"]["N"])


def count(counter: str, n: int, expires_ttl: int) -> None:
    """Count ``n`` more on its own: one atomic ADD, so concurrent counts all land."""
    QuotaModel(counter).update(actions=[QuotaModel.used.add(n), QuotaModel.expires_ttl.set(expires_ttl)])


def charge_in(
    tx: Tx,
    counter: str,
    n: int,
    limit: int,
    expires_ttl: int,
    *,
    return_old: bool = False,
    on_fail: Failure | None = None,
) -> TxItem:
    """Count ``n`` more in the transaction, refused (a failed condition) when that passes ``limit``.

    ``return_old``: a refusal carries the counter as it stood (``used_before``).
    """
    return tx.update(
        QuotaModel(counter),
        [QuotaModel.used.add(n), QuotaModel.expires_ttl.set(expires_ttl)],
        condition=QuotaModel.used.does_not_exist() | (QuotaModel.used <= limit - n),
        return_old=return_old,
        on_fail=on_fail,
    )


def give_back_in(tx: Tx, counter: str, n: int) -> TxItem:
    """Take ``n`` counted but unused off the counter in the transaction."""
    return tx.update(QuotaModel(counter), [QuotaModel.used.add(-n)])
