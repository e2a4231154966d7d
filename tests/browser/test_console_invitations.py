"""The Invitations page in Chromium as the demo admin: chips, upload, resend, remove, bulk by keyboard.

The list is ordered by invitation id (a hash of org and email), 50 a page; the
addresses used here are picked so their ids sort first, so their rows are on
the first page whatever else the demo org holds.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

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


def early(org_id: str, stem: str) -> str:
    """A new address whose invitation id sorts among the first of the org (so its row is on page 1)."""
    while True:
        email = f"{stem}-{uuid.uuid4().hex[:8]}@example.com"
        if hashlib.sha256(f"{org_id}\n{email}".encode()).hexdigest().startswith("00"):
            return email


def invite(stack: RunningStack, *emails: str) -> None:
    reply = stack.call(
        "POST", f"/v1/orgs/{stack.demo.org_id}/invitations", stack.demo.api_key, {"emails": list(emails)}
    )
    assert reply.status == 200 and reply.body["summary"]["invited"] == len(emails), reply.body


def open_invitations(page: Page, stack: RunningStack, query: str = "") -> None:
    page.goto(f"/orgs/{stack.demo.org_id}/invitations{query}")
    expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()


def tab_to(page: Page, script: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches ``script`` (a JS predicate on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!el && ({script}); }}"):
            return
    raise AssertionError(f"Tab never reached {script}")


def test_invite_two_by_typing_and_tab(admin: Page, stack: RunningStack) -> None:
    page = admin
    first, second = f"chip-a-{uuid.uuid4().hex[:8]}@example.com", f"chip-b-{uuid.uuid4().hex[:8]}@example.com"
    open_invitations(page, stack)
    assert_accessible(page, "the Invitations page")
    entry = page.get_by_label("Email addresses")
    entry.click()
    page.keyboard.type(first)
    page.keyboard.press("Tab")
    page.keyboard.type(second)
    page.keyboard.press("Tab")
    page.keyboard.type("not-an-address")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=f"Remove {first}")).to_be_visible()
    expect(page.get_by_role("button", name=f"Remove {second}")).to_be_visible()
    expect(page.get_by_role("button", name="Remove not-an-address (not an email)")).to_be_visible()
    assert_accessible(page, "the invite form with chips")
    page.get_by_role("button", name="Remove not-an-address (not an email)").click()
    expect(page.get_by_role("button", name="Remove not-an-address (not an email)")).to_have_count(0)
    page.get_by_role("button", name="Invite Members").click()
    results = page.locator("#invite-results")
    expect(results).to_contain_text(first)
    expect(results.get_by_role("row").filter(has_text="invited")).to_have_count(2)
    expect(page.get_by_role("status").first).to_contain_text("2 invited")
    assert_accessible(page, "the invite results")
    screenshot(page, "invitations")


def test_csv_upload_reports_the_bad_line(admin: Page, stack: RunningStack) -> None:
    page = admin
    good = [f"csv-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(2)]
    data = f"email\n{good[0]}\nnot an email\n{good[1]}\n".encode()
    open_invitations(page, stack)
    page.get_by_label("CSV file").set_input_files({"name": "people.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="Upload").click()
    results = page.locator("#upload-results")
    expect(results.get_by_role("row").filter(has_text="not an email")).to_contain_text("3")
    expect(results.get_by_role("row").filter(has_text="invited")).to_have_count(2)
    expect(page.get_by_role("button", name="Download results (CSV)")).to_be_visible()
    assert_accessible(page, "the upload results")


def test_resend_one_and_remove_another_with_the_dialog(admin: Page, stack: RunningStack) -> None:
    page = admin
    again, gone = early(stack.demo.org_id, "again"), early(stack.demo.org_id, "gone")
    invite(stack, again, gone)
    open_invitations(page, stack)
    page.get_by_role("button", name=f"Resend Email Invite to {again}").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Invitation to {again} sent again")
    assert_accessible(page, "after Resend Email Invite")
    page.get_by_role("button", name=f"Remove Invite to {gone}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Remove the invitation to {gone}?")
    assert_accessible(page, "the remove dialog")
    dialog.get_by_role("button", name="Remove Invite").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Invitation to {gone} removed")
    expect(page.get_by_role("button", name=f"Remove Invite to {gone}")).to_have_count(0)


def test_bulk_resend_by_keyboard_alone(admin: Page, stack: RunningStack) -> None:
    page = admin
    picked = [early(stack.demo.org_id, "bulk") for _ in range(2)]
    invite(stack, *picked)
    open_invitations(page, stack)
    page.locator("main").focus()
    tab_to(page, "el.textContent.trim() === 'Resend Invitations' && el.tagName === 'A'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("checkbox", name=f"Select {picked[0]}")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Select all invitations on this page")).to_be_visible()
    assert_accessible(page, "the selection")
    for email in picked:
        tab_to(page, f"el.getAttribute('aria-label') === 'Select {email}'")
        page.keyboard.press("Space")
        expect(page.get_by_role("checkbox", name=f"Select {email}")).to_be_checked()
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Resend Invitations'")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Resend 2 invitations?")
    assert_accessible(page, "the bulk confirmation")
    page.keyboard.press("Shift+Tab")  # from Cancel (focused first) back to Resend
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Resend"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Resend invitations: 2 resent.")
    assert_accessible(page, "the bulk summary")
