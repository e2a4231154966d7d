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

This module is the table's repository: services read and write service
accounts only through its functions, which take and return the records of
``domain.service_accounts``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
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
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..clock import iso, parse_iso
from ..domain.errors import ServiceUnavailable
from ..domain.models import Standing
from ..domain.service_accounts import AccountChange, GrantedToken, StoredSecret, StoredServiceAccount
from .base import AlreadyApplied, Failure, Tx, TxItem, answered, client, register, take_flag
from .members import MemberModel

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


def _secrets(item: ServiceAccountModel) -> dict[str, StoredSecret]:
    raw = item.secrets.as_dict() if item.secrets is not None else {}
    return {
        str(sid): StoredSecret(
            secret_id=str(sid),
            hash=str(entry.get("hash", "")),
            created_at=parse_iso(str(entry["created_at"])),
            last_used_at=parse_iso(str(entry["last_used_at"])) if entry.get("last_used_at") else None,
        )
        for sid, entry in raw.items()
    }


def _secret_entry(secret: StoredSecret) -> dict[str, str]:
    entry = {"hash": secret.hash, "created_at": iso(secret.created_at)}
    if secret.last_used_at is not None:
        entry["last_used_at"] = iso(secret.last_used_at)
    return entry


def _account(item: ServiceAccountModel) -> StoredServiceAccount | None:
    if item.org_id is None or item.created_at is None:  # not an account item
        return None
    return StoredServiceAccount(
        sa_id=item.sa_id,
        org_id=item.org_id,
        name=item.name or "",
        scopes=frozenset(item.scopes or ()),
        disabled=bool(item.disabled),
        created_at=item.created_at,
        secrets=_secrets(item),
        version=int(item.version or 0),
        generation=int(item.generation or 0),
        created_by=item.created_by,
        updated_at=item.updated_at,
        account_id=item.account_id,
        member_joined_at=item.member_joined_at,
        disabled_reason=item.disabled_reason,
        notice_pending=item.notice_pending,
    )


def _token(item: ServiceAccountModel) -> GrantedToken | None:
    if item.expires_at is None or item.secret_id is None or item.created_at is None:
        return None
    return GrantedToken(
        sa_id=item.sa_id,
        token_hash=item.item.removeprefix("token#"),
        secret_id=item.secret_id,
        scopes=frozenset(item.scopes or ()),
        generation=int(item.generation or 0),
        created_at=item.created_at,
        expires_at=item.expires_at,
    )


def get(sa_id: str) -> StoredServiceAccount | None:
    """One account, read consistently (None: there is none)."""
    try:
        return _account(ServiceAccountModel.get(sa_id, ACCOUNT, consistent_read=True))
    except DoesNotExist:
        return None


def of_org(org_id: str) -> list[StoredServiceAccount]:
    """The org's service accounts (the sparse ``by_org`` index holds account items only)."""
    found = (_account(i) for i in ServiceAccountModel.by_org.query(org_id))
    return [a for a in found if a is not None]


def add_in(tx: Tx, account: StoredServiceAccount) -> TxItem:
    """Put a new account in the transaction (a client id is never reused)."""
    item = ServiceAccountModel(
        account.sa_id,
        ACCOUNT,
        org_id=account.org_id,
        name=account.name,
        scopes=set(account.scopes),
        disabled=account.disabled,
        secrets={sid: _secret_entry(s) for sid, s in account.secrets.items()},
        version=account.version,
        generation=account.generation,
        created_at=account.created_at,
        created_by=account.created_by,
        updated_at=account.updated_at,
        account_id=account.account_id,
        member_joined_at=account.member_joined_at,
    )
    return tx.put(item, condition=ServiceAccountModel.sa_id.does_not_exist())


def change_in(tx: Tx, account: StoredServiceAccount, change: AccountChange, at: datetime) -> TxItem:
    """Write one management change in the transaction, conditioned on the account being as read.

    A change read before another one landed fails its version condition: a
    lost race (``retry_races`` reads and plans again).
    """
    model = ServiceAccountModel
    actions: list[Any] = []
    if change.name is not None:
        actions.append(model.name.set(change.name))
    if change.scopes is not None:
        actions.append(model.scopes.set(set(change.scopes)))
    if change.disabled is not None:
        actions.append(model.disabled.set(change.disabled))
    if change.raise_generation:
        actions.append(model.generation.set(account.generation + 1))
    if change.clear_disabled_reason:
        actions.append(model.disabled_reason.remove())
    if change.add_secret is not None:
        actions.append(model.secrets[change.add_secret.secret_id].set(_secret_entry(change.add_secret)))
    if change.remove_secret is not None:
        actions.append(model.secrets[change.remove_secret].remove())
    actions += [model.version.set(account.version + 1), model.updated_at.set(at)]
    return tx.update(
        ServiceAccountModel(account.sa_id, ACCOUNT),
        actions,
        condition=(model.org_id == account.org_id) & (model.version == account.version),
    )


def delete_in(tx: Tx, account: StoredServiceAccount, on_fail: Failure) -> TxItem:
    """Delete the account in the transaction (``on_fail``: it was deleted meanwhile)."""
    return tx.delete(
        ServiceAccountModel(account.sa_id, ACCOUNT),
        condition=ServiceAccountModel.org_id == account.org_id,
        on_fail=on_fail,
    )


def grant_in(tx: Tx, account: StoredServiceAccount, token: GrantedToken, on_fail: Failure) -> None:
    """Put the granted token and record its secret's use, under the grant's own conditions.

    ``on_fail``: the secret was deleted, or the account disabled, since it was
    read; the grant mints nothing then.
    """
    model = ServiceAccountModel
    row = ServiceAccountModel(
        token.sa_id,
        token_item(token.token_hash),
        secret_id=token.secret_id,
        scopes=set(token.scopes),
        generation=token.generation,
        created_at=token.created_at,
        expires_at=token.expires_at,
        expires_ttl=int(token.expires_at.timestamp()) + 1,
    )
    tx.put(row, condition=model.item.does_not_exist())
    tx.update(
        ServiceAccountModel(account.sa_id, ACCOUNT),
        [model.secrets[token.secret_id]["last_used_at"].set(iso(token.created_at))],
        condition=model.secrets[token.secret_id].exists()
        & (model.disabled == False)  # noqa: E712  (a DynamoDB condition)
        & (model.generation == account.generation),
        on_fail=on_fail,
    )


@dataclass(frozen=True)
class RequestRead:
    """What a request with an access token reads: the account, the token and the maker's standing."""

    account: StoredServiceAccount | None
    token: GrantedToken | None
    maker: Standing | None


def read_for_request(sa_id: str, token_hash: str, maker_key: tuple[str, str] | None) -> RequestRead:
    """Account, token and (when named) the maker's member item in one consistent BatchGetItem.

    BatchGetItem reads several tables in one request; unprocessed keys are read again.
    """
    table = ServiceAccountModel.Meta.table_name
    members_table = MemberModel.Meta.table_name
    keys = [
        {"sa_id": {"S": sa_id}, "item": {"S": ACCOUNT}},
        {"sa_id": {"S": sa_id}, "item": {"S": token_item(token_hash)}},
    ]
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    if maker_key is not None:
        org_id, account_id = maker_key
        member = {"org_id": {"S": org_id}, "account_id": {"S": account_id}}
        request[members_table] = {"Keys": [member], "ConsistentRead": True}
    found: dict[str, list[dict[str, Any]]] = {table: [], members_table: []}
    for _ in range(3):
        answer = answered(functools.partial(client().batch_get_item, RequestItems=request))
        for name, rows in answer.get("Responses", {}).items():
            found.setdefault(name, []).extend(rows)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise ServiceUnavailable()
    items = [ServiceAccountModel.from_raw_data(raw) for raw in found[table]]
    makers = [MemberModel.from_raw_data(raw) for raw in found[members_table]]
    account = next((i for i in items if i.item == ACCOUNT), None)
    token = next((i for i in items if i.item != ACCOUNT), None)
    return RequestRead(
        account=_account(account) if account is not None else None,
        token=_token(token) if token is not None else None,
        maker=Standing(role=makers[0].role, joined_at=makers[0].joined_at) if makers else None,
    )


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
