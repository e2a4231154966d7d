"""Service account decisions on plain records: what a change writes, whose account it is, whether a
granted token still stands (no AWS, no mock)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain.roles import Scope
from chalicelib.domain.service_accounts import (
    GrantedToken,
    StoredSecret,
    StoredServiceAccount,
    maker_of,
    plan_update,
    scopes_of,
    token_stands,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = StoredSecret(secret_id="sas_1", hash="h", created_at=T0)
ACCOUNT = StoredServiceAccount(
    sa_id="sa_" + "1" * 20,
    org_id="org_" + "2" * 20,
    name="deploy",
    scopes=frozenset({Scope.MEMBERS_READ.value}),
    disabled=False,
    created_at=T0,
    secrets={SECRET.secret_id: SECRET},
    version=3,
    generation=2,
    created_by="account:acc_x",
    account_id="acc_" + "3" * 20,
    member_joined_at=T0,
)
TOKEN = GrantedToken(
    sa_id=ACCOUNT.sa_id,
    token_hash="t",
    secret_id=SECRET.secret_id,
    scopes=ACCOUNT.scopes,
    generation=2,
    created_at=T0,
    expires_at=T0 + timedelta(hours=1),
)


def test_nothing_to_change_plans_nothing() -> None:
    assert plan_update(ACCOUNT) is None
    assert plan_update(ACCOUNT, name="deploy", scopes=scopes_of(ACCOUNT.scopes), disabled=False) is None


def test_renaming_and_rescoping_is_one_update_with_both_details() -> None:
    planned = plan_update(ACCOUNT, name="ci", scopes=frozenset({Scope.SEATS_WRITE, Scope.MEMBERS_READ}))
    assert planned is not None
    change, action, details = planned
    assert action == "service_account.updated"
    assert change.name == "ci" and change.scopes == {Scope.SEATS_WRITE.value, Scope.MEMBERS_READ.value}
    assert details == {"name": "ci", "scopes": sorted([Scope.MEMBERS_READ.value, Scope.SEATS_WRITE.value])}
    assert change.disabled is None and not change.raise_generation


def test_disabling_raises_the_generation_so_no_earlier_token_works_again() -> None:
    planned = plan_update(ACCOUNT, disabled=True)
    assert planned is not None
    change, action, details = planned
    assert (change.disabled, change.raise_generation, change.clear_disabled_reason) == (True, True, False)
    assert action == "service_account.disabled" and details == {"disabled": True}


def test_enabling_after_the_cascade_clears_its_reason_and_keeps_the_generation() -> None:
    cascaded = replace(ACCOUNT, disabled=True, disabled_reason="maker_removed")
    planned = plan_update(cascaded, disabled=False)
    assert planned is not None
    change, action, _ = planned
    assert (change.disabled, change.raise_generation, change.clear_disabled_reason) == (False, False, True)
    assert action == "service_account.enabled"
    plain = plan_update(replace(ACCOUNT, disabled=True), disabled=False)
    assert plain is not None and not plain[0].clear_disabled_reason


def test_disabling_with_a_rename_is_an_update() -> None:
    planned = plan_update(ACCOUNT, name="ci", disabled=True)
    assert planned is not None and planned[1] == "service_account.updated"


def test_the_maker_is_the_recorded_account_or_the_creator_of_an_older_one() -> None:
    assert maker_of(ACCOUNT) == ACCOUNT.account_id
    older = replace(ACCOUNT, account_id=None)
    assert maker_of(older) == "acc_x"
    assert maker_of(replace(older, created_by="system:bootstrap")) is None


def test_unknown_scope_names_grant_nothing() -> None:
    assert scopes_of(frozenset({"members:read", "no:such"})) == {Scope.MEMBERS_READ}


def test_a_token_stands_only_on_an_enabled_account_under_its_generation_and_secret() -> None:
    assert token_stands(ACCOUNT, TOKEN, T0)
    assert not token_stands(None, TOKEN, T0) and not token_stands(ACCOUNT, None, T0)
    assert not token_stands(replace(ACCOUNT, disabled=True), TOKEN, T0)
    assert not token_stands(replace(ACCOUNT, generation=3), TOKEN, T0)  # disabled and enabled since
    assert not token_stands(replace(ACCOUNT, secrets={}), TOKEN, T0)  # its secret was deleted
    assert not token_stands(ACCOUNT, TOKEN, TOKEN.expires_at)  # expired at its expiry instant
    assert token_stands(ACCOUNT, TOKEN, TOKEN.expires_at - timedelta(seconds=1))
