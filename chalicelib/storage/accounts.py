"""Accounts table.

Keys: ``account_id`` (hash).
- account item: ``account_id = acc_…`` with email, name, created_at.
- email claim: ``account_id = email#<lower-cased email>`` with ``owner`` = the
  account id. Written in the same transaction as the account with
  ``attribute_not_exists``, it makes emails unique and lets sign-in and
  invitation acceptance find an account by email with one consistent read.

This module is the table's repository: services read and write accounts only
through its functions, which take and return ``domain.models.Account``.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from ..domain.models import Account
from .base import Tx, key_fits, register


def email_claim_key(normalized_email: str) -> str:
    """Key of the claim item; takes an already normalized email."""
    return f"email#{normalized_email}"


@register
class AccountModel(Model):
    class Meta:
        base_name = "accounts"
        table_name = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    owner = UnicodeAttribute(null=True)  # set on email-claim items only


def get(account_id: str) -> Account | None:
    """One account, read consistently (None: there is none, or the id names an email claim)."""
    if not account_id.startswith("acc_") or not key_fits(account_id):
        return None
    try:
        item = AccountModel.get(account_id, consistent_read=True)
    except DoesNotExist:
        return None
    assert item.email is not None and item.created_at is not None
    return Account(account_id=item.account_id, email=item.email, name=item.name, created_at=item.created_at)


def owner_of_email(normalized_email: str) -> str | None:
    """The account id that claims the email (one consistent read of the claim), or None."""
    key = email_claim_key(normalized_email)
    if not key_fits(key):
        return None
    try:
        return AccountModel.get(key, consistent_read=True).owner
    except DoesNotExist:
        return None


def items_of(account: Account) -> list[AccountModel]:
    """The account's item and its email claim, as a new account writes them (also for batch seeding)."""
    return [
        AccountModel(account.account_id, email=account.email, name=account.name, created_at=account.created_at),
        AccountModel(email_claim_key(account.email), owner=account.account_id, created_at=account.created_at),
    ]


def add_in(tx: Tx, account: Account) -> None:
    """Put a new account and its email claim in the transaction; a taken email fails the claim's condition."""
    for item in items_of(account):
        tx.put(item, condition=AccountModel.account_id.does_not_exist())
