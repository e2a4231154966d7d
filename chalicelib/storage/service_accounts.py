"""ServiceAccounts table (TTL on ``expires_ttl``): an org's machine clients and their tokens.

Keys: ``sa_id`` (hash, the public client id ``sa_…``) and ``item`` (range).
- ``item = "account"``: the service account: ``org_id``, name, scopes,
  ``disabled``, who created it (``created_by``, and the maker's ``account_id``
  and membership ``member_joined_at``), and ``secrets``, a map of secret id to
  ``{"hash", "created_at", "last_used_at"?}`` (the client secret's SHA-256
  only; at most two). ``version`` is raised by every management change, so
  concurrent changes are conditioned on what they read; ``generation`` is
  raised by every disabling, and a token works only under the generation it
  was granted in (enabling the account again revives no earlier token).
- ``item = "token#<sha256 of the access token>"``: one issued access token,
  with the secret id it was granted to, its scopes, generation and expiry; DynamoDB TTL
  removes it after ``expires_ttl`` (the expiry is checked by the server).
Both items of a request, and the maker's member item, are read in one
consistent BatchGetItem (the access token names its client id, org and
maker), so a disabled account, a deleted secret or a maker removed or
demoted is refused at once. ``disabled_reason`` and ``notice_pending`` are
the Members-stream cascade's (``services.maker_cascade``). Index: GSI ``by_org`` on (``org_id``, ``sa_id``), sparse:
only account items carry ``org_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from .base import AlreadyApplied, Tx, TxItem, register, take_flag

ACCOUNT = "account"


def token_item(token_hash: str) -> str:
    return f"token#{token_hash}"


class ServiceAccountsByOrg(GlobalSecondaryIndex["ServiceAccountModel"]):
    class Meta:
        index_name = "by_org"
        projection = AllProjection()

    org_id = UnicodeAttribute(hash_key=True)
    sa_id = UnicodeAttribute(range_key=True)


@register
class ServiceAccountModel(Model):
    class Meta:
        base_name = "service_accounts"
        table_name = "service_accounts"
        ttl_attribute = "expires_ttl"

    sa_id = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute(null=True)  # account items only (the sparse index)
    name = UnicodeAttribute(null=True)
    scopes = UnicodeSetAttribute(null=True)
    disabled = BooleanAttribute(null=True)
    secrets = MapAttribute[str, Any](null=True)
    version = NumberAttribute(null=True)
    generation = NumberAttribute(null=True)  # account: current; token: the one granted under
    created_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # The maker (account items): the account works only while this membership may manage
    # service accounts (invariant 10); absent for accounts made without one.
    account_id = UnicodeAttribute(null=True)
    member_joined_at = UTCDateTimeAttribute(null=True)
    disabled_reason = UnicodeAttribute(null=True)  # maker_removed | maker_demoted (the cascade's)
    notice_pending = UnicodeAttribute(null=True)  # the cascade's email not sent yet
    # token items
    secret_id = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    expires_ttl = NumberAttribute(null=True)

    by_org = ServiceAccountsByOrg()


def of_org(org_id: str) -> list[ServiceAccountModel]:
    """The org's service accounts (the sparse ``by_org`` index holds account items only)."""
    return list(ServiceAccountModel.by_org.query(org_id))


def disable_in(tx: Tx, sa_id: str, reason: str, at: datetime) -> TxItem:
    """Disable an account for its maker's lost power, in the transaction, keeping the reason to announce.

    Its generation is raised, as when an admin disables it: no token granted so
    far works again, also if an admin enables the account later. Conditioned on
    the cascade not having disabled it already (``AlreadyApplied`` otherwise).
    """
    return tx.update(
        ServiceAccountModel(sa_id, ACCOUNT),
        [
            ServiceAccountModel.disabled.set(True),
            ServiceAccountModel.disabled_reason.set(reason),
            ServiceAccountModel.notice_pending.set(reason),
            ServiceAccountModel.generation.add(1),
            ServiceAccountModel.version.add(1),  # an admin's change read before this one is a lost race
            ServiceAccountModel.updated_at.set(at),
        ],
        condition=ServiceAccountModel.org_id.exists() & ServiceAccountModel.disabled_reason.does_not_exist(),
        on_fail=AlreadyApplied,
    )


def claim_notice(sa_id: str) -> bool:
    """Take the right to announce a disabling (``notice_pending``); True when this call took it."""
    return take_flag(ServiceAccountModel(sa_id, ACCOUNT), ServiceAccountModel.notice_pending)


def release_notice(sa_id: str, reason: str) -> None:
    """Give a claimed notice back (its email could not be sent yet)."""
    ServiceAccountModel(sa_id, ACCOUNT).update(actions=[ServiceAccountModel.notice_pending.set(reason)])
