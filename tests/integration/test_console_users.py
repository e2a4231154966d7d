"""The Users page and a user's detail page through chalice.test.Client: list, search, seats, roles, tokens."""

from __future__ import annotations

import re

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import members, orgs, seats, sessions, tokens
from chalicelib.storage.orgs import OrgModel
from tests.support.console_support import Browser, Page
from tests.support.helpers import Api, Seed, added


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def as_person(account_id: str, email: str) -> Browser:
    """A browser with a session for the account (the sign-in itself is tested in test_console.py)."""
    browser = Browser()
    secret = sessions.start(account_id, email)
    browser.cookie = f"session={secret}"
    browser.csrf = sessions.csrf_token(secret)
    return browser


def admin_browser(seed: Seed) -> Browser:
    return as_person(seed.admin.account_id, seed.admin.email)


def add(seed: Seed, email: str, role: Role = Role.MEMBER) -> str:
    return added(members.add_member(seed.org_id, admin_actor(seed), email, role)).account_id


def row_of(page: Page, email: str) -> str:
    """The HTML of the table row whose header cell is the email."""
    for row in re.findall(r"<tr>.*?</tr>", page.html, flags=re.S):
        if f">{email}</a>" in row:
            return row
    raise AssertionError(f"no row for {email}")


def users(seed: Seed) -> str:
    return f"/orgs/{seed.org_id}/users"


def state(seed: Seed) -> tuple[object, ...]:
    """Everything a refused request must leave as it was: every member's role and seat, and the counters."""
    org = OrgModel.get(seed.org_id, consistent_read=True)
    listed = members.list_members(seed.org_id, admin_actor(seed), limit=500).items
    return (
        sorted((m.account_id, m.role, m.has_seat, m.seat_generation) for m in listed),
        org.seats_used,
        org.admin_count,
        org.member_count,
    )


# --- the list ----------------------------------------------------------------------------------------


def test_the_list_shows_each_member_with_the_seat_meter_and_actions_in_their_row(
    api: Api, seed: Seed, mailer: MemoryMailer
) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    page = admin_browser(seed).get(users(seed))
    assert page.status == 200
    assert 'aria-current="page">Users' in page.html
    assert "Seats: 1 used of 10, 9 available." in page.text
    assert '<meter min="0" max="10" value="1"' in page.html
    member_row = row_of(page, seed.member.email)
    assert "Member" in member_row and "Seat" in member_row
    assert ">Revoke Seat<" in member_row and ">Assign Seat<" not in member_row
    assert 'data-confirm-button="Revoke Seat"' in member_row
    assert ">Assign as Account Admin<" in member_row and ">Assign as Billing Manager<" in member_row
    assert ">Assign as Member<" not in member_row
    assert ">Remove from Organization<" in member_row and 'data-confirm-button="Remove User"' in member_row
    billing_row = row_of(page, seed.billing.email)
    assert ">Assign Seat<" in billing_row and ">Assign as Billing Manager<" not in billing_row
    assert ">Assign as Member<" in billing_row
    for row in (member_row, billing_row):
        assert row.count('name="csrf_token"') == row.count("<form")
    assert ">Assign Seats<" in page.html and ">Revoke Seats<" in page.html
    assert 'role="status"' in page.html


def test_own_row_offers_no_role_change_and_says_why(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    own = row_of(browser.get(users(seed)), seed.admin.email)
    assert "Administrators cannot change their own role." in own
    assert "Assign as" not in own
    before = state(seed)
    refused = browser.post(f"{users(seed)}/{seed.admin.account_id}/role/member", {"confirmed": "yes"})
    assert refused.status == 403 and "Administrators cannot change their own role." in refused.text
    assert state(seed) == before


def test_search_by_email_prefix_and_filters_by_role_and_seat(api: Api, seed: Seed) -> None:
    add(seed, "zed@acme.test")
    add(seed, "zara@acme.test", Role.BILLING_MANAGER)
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    browser = admin_browser(seed)

    def emails(query: str) -> set[str]:
        page = browser.get(f"{users(seed)}?{query}")
        assert page.status == 200
        return set(re.findall(r'/users/acc_[^"]+">([^<]+)</a>', page.html))

    assert emails("email=Z") == {"zed@acme.test", "zara@acme.test"}
    assert emails("email=zed") == {"zed@acme.test"}
    assert emails("role=billing_manager") == {"zara@acme.test", seed.billing.email}
    assert emails("email=z&role=billing_manager") == {"zara@acme.test"}
    assert emails("seat=yes") == {seed.member.email}
    assert seed.member.email not in emails("seat=no") and "zed@acme.test" in emails("seat=no")
    page = browser.get(f"{users(seed)}?email=nobody")
    assert "No users match." in page.text and 'value="nobody"' in page.html
    assert 'option value="billing_manager" selected' in browser.get(f"{users(seed)}?role=billing_manager").html


def test_paging_with_the_cursor_50_per_page(api: Api, seed: Seed) -> None:
    made = {f"p{i:03d}@acme.test" for i in range(120)}
    for email in made:
        add(seed, email)
    browser = admin_browser(seed)
    seen: list[str] = []
    path = users(seed)
    pages = 0
    while True:
        page = browser.get(path)
        assert page.status == 200
        found = re.findall(r'/users/acc_[^"]+">([^<]+)</a>', page.html)
        assert len(found) <= 50
        seen += found
        pages += 1
        link = re.search(r'href="([^"]+)">Next page</a>', page.html)
        if link is None:
            break
        path = link.group(1).replace("&amp;", "&")
    assert pages == 3
    assert sorted(seen) == sorted(made | {seed.admin.email, seed.billing.email, seed.member.email})
    # The search keeps its prefix on the next page.
    first = browser.get(f"{users(seed)}?email=p")
    link = re.search(r'href="([^"]+)">Next page</a>', first.html)
    assert link and "email=p" in link.group(1)
    broken = browser.get(f"{users(seed)}?after=not-a-cursor")
    assert broken.status == 400 and "Traceback" not in broken.html


# --- one user at a time --------------------------------------------------------------------------------


def test_assign_seat_then_revoke_seat_after_confirming(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = admin_browser(seed)
    browser.get(users(seed))
    base = f"{users(seed)}/{seed.member.account_id}"
    assigned = browser.post(f"{base}/seat")
    assert assigned.status == 200
    assert f"{seed.member.email} has a seat now" in assigned.text and 'role="status"' in assigned.html
    assert members.find(seed.org_id, seed.member.account_id).has_seat  # type: ignore[union-attr]
    assert "Seats: 1 used of 10" in assigned.text
    again = browser.post(f"{base}/seat")
    assert again.status == 409 and f"{seed.member.email} already has a seat" in again.text

    asked = browser.post(f"{base}/seat/revoke")
    assert asked.status == 200 and "Revoke the seat of member@acme.test?" in asked.text
    assert re.search(r'<button type="submit" class="danger">Revoke Seat</button>', asked.html)
    assert members.find(seed.org_id, seed.member.account_id).has_seat  # type: ignore[union-attr]
    done = browser.post(f"{base}/seat/revoke", {"confirmed": "yes"})
    assert done.status == 200 and f"The seat of {seed.member.email} was revoked" in done.text
    assert not members.find(seed.org_id, seed.member.account_id).has_seat  # type: ignore[union-attr]
    none = browser.post(f"{base}/seat/revoke", {"confirmed": "yes"})
    assert none.status == 404 and "has no seat to revoke" in none.text


def test_a_full_org_says_so_in_words_and_nothing_changes(api: Api, seed: Seed) -> None:
    orgs.set_capacity(seed.org_id, admin_actor(seed), 1)
    seats.assign(seed.org_id, admin_actor(seed), seed.billing.account_id, notify=False)
    browser = admin_browser(seed)
    before = state(seed)
    refused = browser.post(f"{users(seed)}/{seed.member.account_id}/seat")
    assert refused.status == 402 and 'role="alert"' in refused.html
    assert f"Its only seat is taken, so {seed.member.email} did not get one." in refused.text
    assert state(seed) == before


def test_role_change_confirms_then_changes(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    base = f"{users(seed)}/{seed.member.account_id}"
    asked = browser.post(f"{base}/role/billing_manager")
    assert asked.status == 200 and "Confirm your role assignment" in asked.text
    assert ">Assign as Billing Manager</button>" in asked.html
    assert members.find(seed.org_id, seed.member.account_id).role is Role.MEMBER  # type: ignore[union-attr]
    done = browser.post(f"{base}/role/billing_manager", {"confirmed": "yes"})
    assert done.status == 200 and f"{seed.member.email} is now a Billing Manager." in done.text
    assert members.find(seed.org_id, seed.member.account_id).role is Role.BILLING_MANAGER  # type: ignore[union-attr]
    row = row_of(done, seed.member.email)
    assert ">Assign as Member<" in row and ">Assign as Billing Manager<" not in row
    admin = browser.post(f"{base}/role/account_admin", {"confirmed": "yes"})
    assert f"{seed.member.email} is now an Account Admin." in admin.text
    bogus = browser.post(f"{base}/role/owner", {"confirmed": "yes"})
    assert bogus.status == 400 and "no such role" in bogus.text


def test_remove_from_organization_confirms_with_remove_user(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    base = f"{users(seed)}/{seed.member.account_id}"
    asked = browser.post(f"{base}/remove")
    assert "Remove member@acme.test from Acme?" in asked.text and ">Remove User</button>" in asked.html
    assert members.find(seed.org_id, seed.member.account_id) is not None
    done = browser.post(f"{base}/remove", {"confirmed": "yes"})
    assert done.status == 200 and f"{seed.member.email} was removed from Acme" in done.text
    assert members.find(seed.org_id, seed.member.account_id) is None
    assert f">{seed.member.email}</a>" not in done.html
    gone = browser.post(f"{base}/remove", {"confirmed": "yes"})
    assert gone.status == 404


def test_the_last_admin_is_refused_in_words(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    before = state(seed)
    refused = browser.post(f"{users(seed)}/{seed.admin.account_id}/remove", {"confirmed": "yes"})
    assert refused.status == 409 and 'role="alert"' in refused.html
    assert "Acme must keep at least one Account Admin, so nothing was changed." in refused.text
    assert state(seed) == before


# --- many at once ------------------------------------------------------------------------------------


def test_bulk_assign_names_who_got_a_seat_and_who_did_not(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    people = [add(seed, f"bulk{i}@acme.test") for i in range(4)]
    orgs.set_capacity(seed.org_id, admin_actor(seed), 2)
    browser = admin_browser(seed)
    start = browser.get(users(seed))
    assert f'href="{users(seed)}?select=assign">Assign Seats</a>' in start.html
    picking = browser.get(f"{users(seed)}?select=assign")
    for i in range(4):
        assert f'aria-label="Select bulk{i}@acme.test"' in picking.html
    assert "data-select-all" in picking.html and ">Assign Users</button>" in picking.html
    assert "Assign Seat<" not in picking.html  # no row actions while choosing

    asked = browser.post(f"{users(seed)}/seats/assign", {"account_id": people})
    assert asked.status == 200 and "Assign a seat to 4 users? 2 of 2 seats are available." in asked.text
    assert "not enough seats" in asked.text and ">Assign</button>" in asked.html
    assert orgs.load(seed.org_id).seats_used == 0  # asking changed nothing
    done = browser.post(f"{users(seed)}/seats/assign", {"account_id": people, "confirmed": "yes"})
    assert done.status == 200
    assert "Seats assigned to: bulk0@acme.test, bulk1@acme.test." in done.text
    assert "No seat left for: bulk2@acme.test, bulk3@acme.test. All 2 seats are taken" in done.text
    assert orgs.load(seed.org_id).seats_used == 2
    assert "Seats: 2 used of 2, 0 available." in done.text


def test_bulk_needs_a_choice_and_select_all_takes_the_whole_page(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    browser.get(users(seed))
    none = browser.post(f"{users(seed)}/seats/assign", {"confirmed": "yes"})
    assert none.status == 400 and "Select at least one user." in none.text
    picking = browser.get(f"{users(seed)}?select=assign")
    page_ids = re.findall(r'name="page_ids" value="([^"]+)"', picking.html)
    assert len(page_ids) == 3
    done = browser.post(f"{users(seed)}/seats/assign", {"all": "yes", "page_ids": page_ids, "confirmed": "yes"})
    assert done.status == 200 and orgs.load(seed.org_id).seats_used == 3


def test_bulk_revoke(api: Api, seed: Seed) -> None:
    for person in (seed.member, seed.billing):
        seats.assign(seed.org_id, admin_actor(seed), person.account_id, notify=False)
    browser = admin_browser(seed)
    picking = browser.get(f"{users(seed)}?select=revoke")
    assert ">Revoke Users</button>" in picking.html
    assert f'aria-label="Select {seed.member.email}"' in picking.html
    assert f'aria-label="Select {seed.admin.email}"' not in picking.html  # no seat, nothing to revoke
    chosen = [seed.member.account_id, seed.billing.account_id, seed.admin.account_id]
    asked = browser.post(f"{users(seed)}/seats/revoke", {"account_id": chosen})
    assert "Revoke the seats of 3 users?" in asked.text and ">Revoke</button>" in asked.html
    done = browser.post(f"{users(seed)}/seats/revoke", {"account_id": chosen, "confirmed": "yes"})
    assert "Seats revoked from: member@acme.test, billing@acme.test" in done.text
    assert "Had no seat: admin@acme.test." in done.text
    assert orgs.load(seed.org_id).seats_used == 0


# --- who may --------------------------------------------------------------------------------------------


def test_a_billing_manager_sees_the_list_read_only(api: Api, seed: Seed) -> None:
    browser = as_person(seed.billing.account_id, seed.billing.email)
    page = browser.get(users(seed))
    assert page.status == 200 and seed.member.email in page.text and "Seats: 0 used of 10" in page.text
    for label in (
        "Assign Seat",
        "Revoke Seat",
        "Assign as",
        "Remove from Organization",
        "Assign Seats",
        "Revoke Seats",
    ):
        assert label not in page.text
    assert "<button" not in page.html.split("<main")[1].replace('<button type="submit">Search</button>', "")
    assert "checkbox" not in browser.get(f"{users(seed)}?select=assign").html
    before = state(seed)
    target = f"{users(seed)}/{seed.member.account_id}"
    for path, form in (
        (f"{target}/seat", {}),
        (f"{target}/seat/revoke", {"confirmed": "yes"}),
        (f"{target}/role/account_admin", {"confirmed": "yes"}),
        (f"{target}/remove", {"confirmed": "yes"}),
        (f"{users(seed)}/seats/assign", {"account_id": [seed.member.account_id], "confirmed": "yes"}),
        (f"{users(seed)}/seats/revoke", {"account_id": [seed.member.account_id], "confirmed": "yes"}),
        (f"{target}/tokens", {"name": "x", "days": "30"}),
    ):
        refused = browser.post(path, form)
        assert refused.status == 403 and "does not allow this" in refused.text, path
    assert state(seed) == before
    detail = browser.get(target)
    assert detail.status == 200 and "Member" in detail.text and "Issue Token" not in detail.text


def test_a_member_gets_the_403_page_and_an_outsider_the_404_page(api: Api, seed: Seed) -> None:
    member = as_person(seed.member.account_id, seed.member.email)
    page = member.get(users(seed))
    assert page.status == 403 and "Not allowed" in page.text and seed.billing.email not in page.text
    assert member.get(f"{users(seed)}/{seed.billing.account_id}").status == 403
    assert 'href="/orgs/' + seed.org_id + '/users"' not in member.get(f"/orgs/{seed.org_id}/tokens").html
    outsider = as_person(seed.outsider.account_id, seed.outsider.email)
    other = outsider.get(users(seed))
    assert other.status == 404 and "Acme" not in other.text
    before = state(seed)
    assert outsider.post(f"{users(seed)}/{seed.member.account_id}/remove", {"confirmed": "yes"}).status == 404
    assert state(seed) == before


def test_a_form_without_the_csrf_token_changes_nothing(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    before = state(seed)
    refused = browser.post(f"{users(seed)}/{seed.member.account_id}/seat", csrf=False)
    assert refused.status == 403 and "Form out of date" in refused.text
    cross = browser.post(f"{users(seed)}/{seed.member.account_id}/seat", site="cross-site", origin=None)
    assert cross.status == 403
    assert state(seed) == before


# --- one user's page -----------------------------------------------------------------------------------


def test_detail_page_issues_and_revokes_a_token_and_lists_audit_entries(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    path = f"{users(seed)}/{seed.member.account_id}"
    page = browser.get(path)
    assert page.status == 200 and "No seat" in page.text and "a token needs one" in page.text
    assert "member.added" in page.text
    seated = browser.post(f"{path}/seat", {"back": "detail"})
    assert seated.status == 200 and "Issue Token" in seated.text and "has a seat now" in seated.text
    blank = browser.post(f"{path}/tokens", {"name": "", "days": "30"})
    assert blank.status == 400 and "Name is required." in blank.text
    issued = browser.post(f"{path}/tokens", {"name": "ci server", "days": "30"})
    assert issued.status == 201 and "shown only once" in issued.text
    secret = issued.html.split('id="new-secret" readonly value="')[1].split('"')[0]
    assert api.post("/v1/tokens/verify", json_body={"token": secret}).body["active"] is True
    again = browser.get(path)
    assert secret not in again.html and "ci server" in again.text and "token.issued" in again.text
    [token] = tokens.list_for(seed.org_id, admin_actor(seed), seed.member.account_id).items
    revoke = f"{path}/tokens/{token.token_id}/revoke"
    assert f'action="{revoke}" data-confirm=' in again.html
    asked = browser.post(revoke)
    assert asked.status == 200 and "Revoke this token?" in asked.text
    assert api.post("/v1/tokens/verify", json_body={"token": secret}).body["active"] is True
    done = browser.post(revoke, {"confirmed": "yes"})
    assert done.status == 303 and done.location == path
    assert api.post("/v1/tokens/verify", json_body={"token": secret}).body == {"active": False}
    assert "revoked by admin" in browser.get(path).text
    own = browser.get(f"{users(seed)}/{seed.admin.account_id}")
    assert "Administrators cannot change their own role." in own.text and "Assign as" not in own.text
    assert browser.get(f"{users(seed)}/acc_nobody").status == 404


def test_detail_page_refuses_a_token_without_a_seat_in_words(api: Api, seed: Seed) -> None:
    browser = admin_browser(seed)
    refused = browser.post(f"{users(seed)}/{seed.member.account_id}/tokens", {"name": "x", "days": "30"})
    assert refused.status == 403 and "has no seat, so no token was issued" in refused.text
