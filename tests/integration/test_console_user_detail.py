"""A user's page: audit entries about that user (filtered by DynamoDB, bounded reads), token Renew, and
the Audit Log page's Target filter."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from pynamodb.connection.table import TableConnection

from chalicelib.clock import now
from chalicelib.console import routes_users
from chalicelib.console.render import day
from chalicelib.console.routes_tokens import lifetimes
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.services import audit, members, seats, sessions, tokens
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.tokens import TokenModel, access_token_owner
from tests.support.console_support import Browser, Page
from tests.support.helpers import Api, Seed
from tests.support.table_scan import snapshot


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def as_person(account_id: str, email: str) -> Browser:
    """A browser with a session for the account (signing in is tested in test_console.py)."""
    browser = Browser()
    secret = sessions.start(account_id, email)
    browser.cookie = f"session={secret}"
    browser.csrf = sessions.csrf_token(secret)
    return browser


def admin_browser(seed: Seed) -> Browser:
    return as_person(seed.admin.account_id, seed.admin.email)


def user_path(seed: Seed, account_id: str) -> str:
    return f"/orgs/{seed.org_id}/users/{account_id}"


def audit_section(page: Page) -> str:
    """The HTML of the user page's "Audit entries about …" section."""
    return page.html.split('id="audit-title"', 1)[1].split("</section>", 1)[0]


def outcome_region(page: Page) -> str:
    """The live region (role="status") and the alert after it, up to the user's facts."""
    return page.html.split('class="users-outcome" role="status"', 1)[1].split('<dl class="facts">', 1)[0]


# --- audit entries about the user ------------------------------------------------------------------


def test_the_user_page_shows_entries_about_that_user_and_not_about_others(api: Api, seed: Seed) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.billing.account_id, notify=False)
    members.change_role(seed.org_id, admin_actor(seed), seed.member.account_id, Role.BILLING_MANAGER)
    browser = admin_browser(seed)

    member_page = browser.get(user_path(seed, seed.member.account_id))
    assert member_page.status == 200
    about_member = re.findall(r"<code>([a-z_.]+)</code>", audit_section(member_page))
    assert about_member == ["member.role_changed", "member.added"]  # newest first
    assert "Billing Manager" in audit_section(member_page)  # the role it was changed to
    link = f'href="/orgs/{seed.org_id}/audit-log?target={seed.member.account_id}"'
    assert link in audit_section(member_page)

    billing_page = browser.get(user_path(seed, seed.billing.account_id))
    assert re.findall(r"<code>([a-z_.]+)</code>", audit_section(billing_page)) == ["seat.assigned", "member.added"]
    # The admin's own page: the org's creation is about the org, not about them.
    admin_page = browser.get(user_path(seed, seed.admin.account_id))
    assert "org.created" not in audit_section(admin_page) and "member.role_changed" not in audit_section(admin_page)


def test_the_user_page_reads_a_bounded_number_of_query_pages(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DynamoDB filter still reads the items it drops: the page asks for AUDIT_PAGES x AUDIT_READ at most."""
    monkeypatch.setattr(routes_users, "AUDIT_PAGES", 2)
    monkeypatch.setattr(routes_users, "AUDIT_READ", 10)
    admin = admin_actor(seed)
    member = seed.member.account_id
    queries: list[Any] = []
    original = TableConnection.query

    def counting(self: TableConnection, *args: Any, **kwargs: Any) -> Any:
        if self.table_name == AuditModel.Meta.table_name:
            queries.append(kwargs.get("limit"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TableConnection, "query", counting)

    for i in range(12):  # entries about someone else, newer than the member's member.added
        audit.write(seed.org_id, admin, "test.noise", seed.billing.account_id, {"n": i})
    audit.write(seed.org_id, admin, "test.about_member", member)
    found = routes_users.entries_about(seed.org_id, admin_actor(seed), member)
    assert [e.action for e in found] == ["test.about_member", "member.added"]
    assert {e.target for e in found} == {member}
    assert queries == [10, 10]  # two requests of 10 reads each, though the log goes on

    for i in range(25):  # now the member's entries are all older than the latest 20
        audit.write(seed.org_id, admin, "test.noise", seed.billing.account_id, {"n": i})
    queries.clear()
    assert routes_users.entries_about(seed.org_id, admin_actor(seed), member) == []
    assert queries == [10, 10]
    page = admin_browser(seed).get(user_path(seed, member))
    assert page.status == 200 and f"No recent audit entries about {seed.member.email}" in page.text
    # The Audit Log's Target filter still finds them all.
    everything = audit.list_entries(seed.org_id, admin_actor(seed), target=member, limit=200).items
    assert [e.action for e in everything] == ["test.about_member", "member.added"]


def test_entries_about_stops_at_the_number_shown(api: Api, seed: Seed) -> None:
    admin = admin_actor(seed)
    for i in range(routes_users.AUDIT_SHOWN + 5):
        audit.write(seed.org_id, admin, "test.about_member", seed.member.account_id, {"n": i})
    found = routes_users.entries_about(seed.org_id, admin_actor(seed), seed.member.account_id)
    assert len(found) == routes_users.AUDIT_SHOWN
    assert [e.details["n"] for e in found] == list(range(routes_users.AUDIT_SHOWN + 4, 4, -1))


def test_list_entries_read_at_most_is_one_request_with_a_cursor(api: Api, seed: Seed) -> None:
    admin = admin_actor(seed)
    for i in range(7):
        audit.write(seed.org_id, admin, "test.about_member", seed.member.account_id, {"n": i})
        audit.write(seed.org_id, admin, "test.noise", seed.billing.account_id, {"n": i})
    expected = audit.list_entries(seed.org_id, admin_actor(seed), target=seed.member.account_id, limit=200).items
    walked = []
    cursor = None
    requests = 0
    while True:
        batch = audit.list_entries(
            seed.org_id, admin_actor(seed), target=seed.member.account_id, limit=2, read_at_most=3, cursor=cursor
        )
        requests += 1
        assert len(batch.items) <= 2 and {e.target for e in batch.items} <= {seed.member.account_id}
        walked += batch.items
        cursor = batch.next_cursor
        if cursor is None:
            break
    assert walked == expected  # nothing skipped, nothing twice, newest first
    assert requests > len(expected) // 2


# --- the Audit Log page's Target filter ------------------------------------------------------------------


def test_the_audit_log_page_filters_by_target(api: Api, seed: Seed) -> None:
    for _ in range(30):
        seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
        seats.revoke(seed.org_id, admin_actor(seed), seed.member.account_id)
    seats.assign(seed.org_id, admin_actor(seed), seed.billing.account_id, notify=False)
    browser = admin_browser(seed)
    path = f"/orgs/{seed.org_id}/audit-log"
    start = browser.get(path)
    assert '<label for="audit-target">Target</label>' in start.html and 'name="target"' in start.html

    page = browser.get(f"{path}?target={seed.billing.account_id}")
    assert page.status == 200 and f'value="{seed.billing.account_id}"' in page.html
    targets = re.findall(r'<td data-label="Target">([^<]*)</td>', page.html)
    assert targets == [seed.billing.account_id] * 2
    assert re.findall(r"<code>([a-z_.]+)</code>", page.html) == ["seat.assigned", "member.added"]

    seen: list[str] = []
    url = f"{path}?target={seed.member.account_id}"
    while url:
        page = browser.get(url)
        assert page.status == 200
        seen += re.findall(r'<td data-label="Target">([^<]*)</td>', page.html)
        link = re.search(r'href="([^"]+)">Next page</a>', page.html)
        url = link.group(1).replace("&amp;", "&") if link else ""
        if link:
            assert f"target={seed.member.account_id}" in url  # the filter stays on the next page
    assert seen == [seed.member.account_id] * 61  # 30 assigned, 30 revoked, added

    both = browser.get(f"{path}?target={seed.member.account_id}&action=member.added")
    assert re.findall(r"<code>([a-z_.]+)</code>", both.html) == ["member.added"]
    long = browser.get(f"{path}?target={'a' * 65}")
    assert long.status == 400 and "Target is too long." in long.text
    assert re.search(r'id="audit-target"[^>]*aria-invalid="true"', long.html)
    assert not re.search(r'id="audit-since"[^>]*aria-invalid', long.html)
    nothing = browser.get(f"{path}?target=acc_nobody")
    assert nothing.status == 200 and "Nothing matches." in nothing.text


# --- Renew ------------------------------------------------------------------------------------------------


def seated_token(seed: Seed, name: str = "ci server", days: int = 30) -> tokens.AccessToken:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    token, _ = tokens.issue_for(
        seed.org_id, admin_actor(seed), seed.member.account_id, name, now() + timedelta(days=days)
    )
    return token


def stored_expiry(seed: Seed, token_id: str) -> datetime:
    owner = access_token_owner(seed.org_id, seed.member.account_id)
    [item] = [i for i in TokenModel.by_owner.query(owner) if i.token_id == token_id]
    stored = TokenModel.get(item.token_hash, consistent_read=True)
    assert stored.expires_at is not None
    return stored.expires_at


def renewals(seed: Seed) -> list[Any]:
    return [e for e in audit.list_entries(seed.org_id, admin_actor(seed), action="token.renewed", limit=200).items]


def renew_path(seed: Seed, token_id: str) -> str:
    return f"{user_path(seed, seed.member.account_id)}/tokens/{token_id}/renew"


def test_each_active_token_row_has_a_renew_form(api: Api, seed: Seed) -> None:
    token = seated_token(seed, name="ci <server>")
    page = admin_browser(seed).get(user_path(seed, seed.member.account_id))
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page.html, flags=re.S) if "ci &lt;server&gt;" in r)
    form = row.split(f'action="{renew_path(seed, token.token_id)}"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token"' in form
    assert re.findall(r'<option value="(\d+)"', form) == [str(d) for d in lifetimes()]
    assert f'<label for="renew-{token.token_id}"' in form and f'id="renew-{token.token_id}" name="days"' in form
    assert '<button type="submit" class="small" aria-label="Renew ci &lt;server&gt;">Renew</button>' in form
    assert 'aria-label="Revoke ci &lt;server&gt;"' in row


def test_renew_moves_the_expiry_and_writes_token_renewed(api: Api, seed: Seed) -> None:
    token = seated_token(seed, days=30)
    before = stored_expiry(seed, token.token_id)
    browser = admin_browser(seed)
    browser.get(user_path(seed, seed.member.account_id))
    done = browser.post(renew_path(seed, token.token_id), {"days": "365"})
    assert done.status == 200 and f"<h1>{seed.member.email}</h1>" in done.html
    after = stored_expiry(seed, token.token_id)
    assert after - before > timedelta(days=334)
    assert abs(after - (now() + timedelta(days=365))) < timedelta(minutes=1)
    message = f"Token “ci server” renewed until {day(after)}."
    assert message in outcome_region(done) and 'role="alert"' not in outcome_region(done)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", done.html, flags=re.S) if "ci server" in r)
    assert day(after) in row  # the list shows the new expiry
    [entry] = renewals(seed)
    assert entry.target == seed.member.account_id and entry.actor == f"account:{seed.admin.account_id}"
    assert entry.details["token_id"] == token.token_id
    assert abs(datetime.fromisoformat(entry.details["to"]) - after) < timedelta(milliseconds=1)
    assert datetime.fromisoformat(entry.details["from"]) < datetime.fromisoformat(entry.details["to"])


def test_a_repeated_renew_is_harmless(api: Api, seed: Seed) -> None:
    token = seated_token(seed, days=30)
    browser = admin_browser(seed)
    browser.get(user_path(seed, seed.member.account_id))
    first = browser.post(renew_path(seed, token.token_id), {"days": "90"})
    once = stored_expiry(seed, token.token_id)
    again = browser.post(renew_path(seed, token.token_id), {"days": "90"})  # a reload or a double click
    assert first.status == again.status == 200
    twice = stored_expiry(seed, token.token_id)
    assert once <= twice < once + timedelta(minutes=1) and day(twice) in again.text
    assert f"Token “ci server” renewed until {day(twice)}." in outcome_region(again)
    listed = tokens.list_for(seed.org_id, admin_actor(seed), seed.member.account_id).items
    assert [(t.token_id, t.status()) for t in listed] == [(token.token_id, "active")]
    assert len(renewals(seed)) == 2  # each renewal is a change, and each has its record


def test_a_member_or_billing_manager_cannot_renew(api: Api, seed: Seed) -> None:
    token = seated_token(seed)
    expires = stored_expiry(seed, token.token_id)
    for person in (seed.member, seed.billing):
        browser = as_person(person.account_id, person.email)
        refused = browser.post(renew_path(seed, token.token_id), {"days": "365"})
        assert refused.status == 403 and "does not allow this" in refused.text, person.email
    outsider = as_person(seed.outsider.account_id, seed.outsider.email)
    assert outsider.post(renew_path(seed, token.token_id), {"days": "365"}).status == 404
    anonymous = Browser().post(renew_path(seed, token.token_id), {"days": "365"})
    assert anonymous.status == 401
    assert stored_expiry(seed, token.token_id) == expires and renewals(seed) == []


def test_a_revoked_token_cannot_be_renewed(api: Api, seed: Seed) -> None:
    token = seated_token(seed)
    tokens.revoke_for(seed.org_id, admin_actor(seed), seed.member.account_id, token.token_id)
    browser = admin_browser(seed)
    page = browser.get(user_path(seed, seed.member.account_id))
    assert renew_path(seed, token.token_id) not in page.html  # only active rows offer Renew
    before = snapshot()
    refused = browser.post(renew_path(seed, token.token_id), {"days": "90"})
    assert refused.status == 409 and f"<h1>{seed.member.email}</h1>" in refused.html
    assert 'role="alert"' in outcome_region(refused) and "cannot be renewed" in outcome_region(refused)
    assert snapshot() == before


def test_a_token_whose_seat_ended_cannot_be_renewed(api: Api, seed: Seed) -> None:
    token = seated_token(seed)
    seats.revoke(seed.org_id, admin_actor(seed), seed.member.account_id)  # before the cascade flags it
    browser = admin_browser(seed)
    browser.get(user_path(seed, seed.member.account_id))
    expires = stored_expiry(seed, token.token_id)
    refused = browser.post(renew_path(seed, token.token_id), {"days": "90"})
    assert refused.status == 409 and "cannot be renewed" in refused.text
    assert stored_expiry(seed, token.token_id) == expires and renewals(seed) == []


@pytest.mark.parametrize("days", ["7", "366", "9999", "-30", "x", ""])
def test_an_out_of_range_lifetime_is_refused_in_words(api: Api, seed: Seed, days: str) -> None:
    token = seated_token(seed)
    browser = admin_browser(seed)
    browser.get(user_path(seed, seed.member.account_id))
    before = snapshot()
    refused = browser.post(renew_path(seed, token.token_id), {"days": days})
    assert refused.status == 400 and f"<h1>{seed.member.email}</h1>" in refused.html
    assert "Choose one of the offered expiry times." in outcome_region(refused)
    assert snapshot() == before


def test_an_unknown_token_is_refused_in_words(api: Api, seed: Seed) -> None:
    seated_token(seed)
    seats.assign(seed.org_id, admin_actor(seed), seed.billing.account_id, notify=False)
    theirs, _ = tokens.issue_for(seed.org_id, admin_actor(seed), seed.billing.account_id, "theirs")
    browser = admin_browser(seed)
    browser.get(user_path(seed, seed.member.account_id))
    before = snapshot()
    for token_id in ("tok_0123456789abcdef0123", theirs.token_id):  # none, and another user's
        refused = browser.post(renew_path(seed, token_id), {"days": "90"})
        assert refused.status == 404 and f"<h1>{seed.member.email}</h1>" in refused.html, token_id
        assert f"{seed.member.email} has no such token, so nothing was renewed." in outcome_region(refused)
    assert snapshot() == before
    assert browser.post(f"{user_path(seed, 'acc_nobody')}/tokens/{theirs.token_id}/renew", {"days": "90"}).status == 404


def test_renew_needs_the_csrf_token(api: Api, seed: Seed) -> None:
    token = seated_token(seed)
    browser = admin_browser(seed)
    before = snapshot()
    refused = browser.post(renew_path(seed, token.token_id), {"days": "90"}, csrf=False)
    assert refused.status == 403 and "Form out of date" in refused.text
    assert snapshot() == before
