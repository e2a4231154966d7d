"""Accounts: one per email address, shared by every org the person belongs to."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..clock import now
from ..domain.emails import normalize_email
from ..domain.models import Account
from ..secrets import new_id
from ..storage.accounts import AccountModel, email_claim_key
from ..storage.base import Tx, retry_races

CREATE_ATTEMPTS = 4


def _to_account(item: AccountModel) -> Account:
    assert item.email is not None and item.created_at is not None
    return Account(account_id=item.account_id, email=item.email, name=item.name, created_at=item.created_at)


def get(account_id: str) -> Account | None:
    if not account_id.startswith("acc_"):
        return None
    try:
        return _to_account(AccountModel.get(account_id, consistent_read=True))
    except DoesNotExist:
        return None


def find_by_email(email: str) -> Account | None:
    """One consistent read of the email claim, one of the account."""
    try:
        claim = AccountModel.get(email_claim_key(normalize_email(email)), consistent_read=True)
    except DoesNotExist:
        return None
    return get(claim.owner) if claim.owner else None


def new_account_items(email: str, name: str | None = None) -> tuple[Account, list[AccountModel]]:
    """The account and its email claim, to be put (with ``put_conditions``) in a transaction."""
    created = now()
    account = Account(account_id=new_id("acc"), email=normalize_email(email), name=name, created_at=created)
    item = AccountModel(account.account_id, email=account.email, name=name, created_at=created)
    claim = AccountModel(email_claim_key(account.email), owner=account.account_id, created_at=created)
    return account, [item, claim]


def add_account_to(tx: Tx, email: str) -> Account:
    """Add a new account (and its unique email claim) to a transaction."""
    account, items = new_account_items(email)
    for item in items:
        tx.put(item, condition=AccountModel.account_id.does_not_exist())
    return account


def found_or_added_to(tx: Tx, email: str) -> Account:
    """The account for ``email``: the existing one, or a new one put in ``tx`` (created only if ``tx`` commits).

    So a join that is refused (no seat, the caller lost the power, already a
    member) leaves no account behind. A concurrent creation of the same email
    fails the claim's condition: a lost race, and the retry reads that account.
    """
    return find_by_email(email) or add_account_to(tx, email)


def get_or_create(email: str) -> tuple[Account, bool]:
    """The account for an email, created if absent (nameless: only its person names it); race-safe."""

    def attempt() -> tuple[Account, bool]:
        existing = find_by_email(email)
        if existing:
            return existing, False
        tx = Tx()
        account = add_account_to(tx, email)
        # Someone created it at the same moment (theirs wins: read it again),
        # or their transaction still holds the claim (TransactionConflict: try again).
        tx.commit()
        return account, True

    return retry_races(attempt, attempts=CREATE_ATTEMPTS)
