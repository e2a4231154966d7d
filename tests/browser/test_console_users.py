"""The Users page in Chromium against the local stack, as the demo admin: seats, roles and removal.

Members are made through the JSON API (as automation would); everything
else is done on the page, by clicking the words the product reference
names, and the bulk assignment by keyboard alone. axe-core runs on each
state the page reaches.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.harness import RunningStack
from tests.browser.screenshots import screenshot
from tests.browser.test_console_pages import context_for, sign_in


@pytest.fixture(scope="module")
def admin(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    """The demo org's admin, signed in once for the module (sign-in mail is rate-limited per account)."""
    context = context_for(browser, stack)
    page = context.new_page()
    sign_in(page, stack, stack.demo.admin_email)
    yield page
    context.close()


def add_member(stack: RunningStack, email: str) -> str:
    reply = stack.call(
        "POST", f"/v1/orgs/{stack.demo.org_id}/members", stack.demo.api_key, {"email": email, "role": "member"}
    )
    assert reply.status == 201, reply.body
    return str(reply.body["account_id"])


FOCUSED_LABEL = (
    "() => { const e = document.activeElement; "
    "return e ? (e.getAttribute('aria-label') || e.textContent || '').trim() : ''; }"
)


def tab_to(page: Page, label: str, limit: int = 250) -> None:
    """Press Tab until the focused element's accessible label (aria-label or text) is ``label``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_LABEL)
        if focused == label:
            return
    raise AssertionError(f"Tab never reached {label!r}")


def row(page: Page, email: str) -> Locator:
    return page.get_by_role("row", name=re.compile(re.escape(email)))


def test_users_page_seats_roles_and_removal(admin: Page, browser: Browser, stack: RunningStack) -> None:
    page = admin
    stem = uuid.uuid4().hex[:6]
    emails = [f"user-{stem}-{i}@example.com" for i in range(3)]
    for email in emails:
        add_member(stack, email)
    users = f"/orgs/{stack.demo.org_id}/users"

    page.goto(users)
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text(re.compile(r"Seats: \d+ used of 10"))).to_be_visible()
    own = row(page, stack.demo.admin_email)
    expect(own).to_contain_text("Administrators cannot change their own role.")
    expect(own.get_by_role("button", name=re.compile("^Assign as"))).to_have_count(0)
    assert_accessible(page, "the Users page")

    # Many at once, by keyboard alone: Assign Seats, tick two boxes, Assign Users, then Assign.
    tab_to(page, "Assign Seats")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Assign Users")).to_be_visible()
    expect(page.get_by_label(f"Select {emails[0]}")).to_be_visible()
    assert_accessible(page, "the Users page choosing users for seats")
    for email in emails[:2]:
        tab_to(page, f"Select {email}")
        page.keyboard.press("Space")
        expect(page.get_by_label(f"Select {email}")).to_be_checked()
    tab_to(page, "Assign Users")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Assign seats?")).to_be_visible()
    assert_accessible(page, "the bulk assign confirmation")
    expect(page.get_by_role("button", name="Assign", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    status = page.get_by_role("status").filter(has_text="Seats assigned to")
    for email in emails[:2]:  # in the order of the list (by account id)
        expect(status).to_contain_text(email)
    expect(row(page, emails[0]).get_by_role("button", name=f"Revoke Seat {emails[0]}")).to_be_visible()
    assert_accessible(page, "the Users page after assigning seats")

    # One seat revoked, asked in a dialog whose button is Revoke Seat.
    row(page, emails[0]).get_by_role("button", name=f"Revoke Seat {emails[0]}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Revoke the seat of {emails[0]}?")
    assert_accessible(page, "the Revoke Seat dialog")
    dialog.get_by_role("button", name="Revoke Seat", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="was revoked")).to_contain_text(
        f"The seat of {emails[0]} was revoked"
    )
    expect(row(page, emails[0]).get_by_role("button", name=f"Assign Seat {emails[0]}")).to_be_visible()

    # A role change, confirmed.
    row(page, emails[1]).get_by_role("button", name=f"Assign as Billing Manager {emails[1]}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Confirm your role assignment")
    assert_accessible(page, "the role assignment dialog")
    dialog.get_by_role("button", name="Assign as Billing Manager", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="is now")).to_contain_text(
        f"{emails[1]} is now a Billing Manager."
    )
    expect(row(page, emails[1])).to_contain_text("Billing Manager")
    expect(row(page, emails[1]).get_by_role("button", name=f"Assign as Member {emails[1]}")).to_be_visible()
    assert_accessible(page, "the Users page after a role change")

    # Remove from Organization, confirmed with Remove User.
    row(page, emails[2]).get_by_role("button", name=f"Remove from Organization {emails[2]}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Remove {emails[2]} from the organization?")
    assert_accessible(page, "the Remove User dialog")
    dialog.get_by_role("button", name="Remove User", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="was removed")).to_contain_text(f"{emails[2]} was removed")
    expect(row(page, emails[2])).to_have_count(0)
    assert_accessible(page, "the Users page after removing a user")
    screenshot(page, "users")

    # A user's own page.
    page.get_by_role("link", name=emails[1]).click()
    expect(page.get_by_role("heading", name=emails[1], exact=True)).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Billing Manager")
    page.get_by_label("Name").fill("ci server")
    page.get_by_role("button", name="Issue Token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("oat_")
    assert stack.call("POST", "/v1/tokens/verify", json={"token": secret}).body["active"] is True
    expect(page.get_by_role("table").first).to_contain_text("ci server")
    expect(page.get_by_role("heading", name=f"Audit entries about {emails[1]}")).to_be_visible()
    expect(page.get_by_text("member.role_changed")).to_be_visible()
    assert_accessible(page, "a user's page with a new token")
    page.get_by_role("button", name="Revoke ci server").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("ci server"))).to_contain_text("Revoked")
    assert stack.call("POST", "/v1/tokens/verify", json={"token": secret}).body == {"active": False}


def test_users_page_fits_a_phone(admin: Page, browser: Browser, stack: RunningStack) -> None:
    context = context_for(browser, stack, phone=True)
    context.add_cookies(admin.context.cookies())
    page = context.new_page()
    for path in (f"/orgs/{stack.demo.org_id}/users", f"/orgs/{stack.demo.org_id}/users?select=assign"):
        page.goto(path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a 360px screen"
        assert_accessible(page, f"{path} at 360 px")
    context.close()
