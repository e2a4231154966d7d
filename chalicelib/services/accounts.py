"""Accounts: one per email address, shared by every org the person belongs to."""

from __future__ import annotations

from ..clock import now
from ..domain.emails import normalize_email
from ..domain.models import Account
from ..secrets import new_id
from ..storage import accounts as account_rows
from ..storage.base import Tx, retry_races

CREATE_ATTEMPTS = 4


def get(account_id: str) -> Account | None:
    return account_rows.get(account_id)


def find_by_email(email: str) -> Account | None:
    """One consistent read of the email claim, one of the account."""
    owner = account_rows.owner_of_email(normalize_email(email))
    return get(owner) if owner else None


def new_account(email: str, name: str | None = None) -> Account:
    """A new account for ``email``, not written yet (``add_account_to`` puts it in a transaction)."""
    return Account(account_id=new_id("acc"), email=normalize_email(email), name=name, created_at=now())


def add_account_to(tx: Tx, email: str) -> Account:
    """Add a new account (and its unique email claim) to a transaction."""
    account = new_account(email)
    account_rows.add_in(tx, account)
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
