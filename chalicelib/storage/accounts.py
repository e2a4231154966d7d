"""Accounts table.

Keys: ``account_id`` (hash).
- account item: ``account_id = acc_…`` with email, name, created_at.
- email claim: ``account_id = email#<lower-cased email>`` with ``owner`` = the
  account id. Written in the same transaction as the account with
  ``attribute_not_exists``, it makes emails unique and lets sign-in and
  invitation acceptance find an account by email with one consistent read.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from .base import register


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
