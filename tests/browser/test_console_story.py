"""The product reference, start to end, in Chromium: one admin, their invitees, seats, a token, its end.

The steps are the reference's, in its order, clicked by the words it names:
sign in, invite two people by typing and Tab, upload a CSV of three more with
one bad line, resend one invitation and remove another, resend two at once
with checkboxes and the confirmation, two invitees accept from their emails,
seats assigned in bulk until they run out, the seated member issues a token on
Token Access, the admin revokes the seat and the token stops verifying, role
changes (none on the admin's own row), the billing manager's and the member's
views, and Remove from Organization ending the last access. The org is new
(made through the JSON API by the demo admin), with one seat, so every count
on its pages is known.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.harness import RunningStack
from tests.browser.mailbox import Mark
from tests.browser.screenshots import screenshot
from tests.browser.test_console_pages import context_for, sign_in


def address(label: str) -> str:
    return f"story-{label}-{uuid.uuid4().hex[:8]}@example.com"


def row(page: Page, email: str) -> Locator:
    return page.get_by_role("row", name=re.compile(re.escape(email)))


def accept_from_mail(browser: Browser, stack: RunningStack, email: str, mark: Mark) -> BrowserContext:
    """The invitee opens the newest invitation email and accepts; the new account is signed in in its browser."""
    context = context_for(browser, stack)
    page = context.new_page()
    page.goto(stack.mailbox.wait_for(email, "You are invited", after=mark).link("See the invitation"))
    page.get_by_role("button", name="Accept Invitation").click()
    expect(page.get_by_role("heading", name="You joined")).to_be_visible()
    return context


def verifies(stack: RunningStack, secret: str) -> bool:
    return bool(stack.call("POST", "/v1/tokens/verify", json={"token": secret}).body["active"])


def nav_links(page: Page) -> list[str]:
    """The organization's menu, as the role sees it."""
    return [text.strip() for text in page.locator("nav.side").get_by_role("link").all_inner_texts()]


def test_the_product_reference_story(browser: Browser, stack: RunningStack) -> None:
    # The org and its admin: the demo admin makes the org and invites the story's admin, who accepts.
    key = stack.demo.api_key
    created = stack.call("POST", "/v1/orgs", key, {"name": f"Story Org {uuid.uuid4().hex[:6]}"})
    assert created.status == 201, created.body
    org_id = created.body["org_id"]
    assert stack.call("PUT", f"/v1/orgs/{org_id}/seats", key, {"capacity": 1}).status == 200
    admin_email = address("admin")
    mark = stack.mailbox.mark()
    invited = stack.call(
        "POST", f"/v1/orgs/{org_id}/invitations", key, {"emails": [admin_email], "role": "account_admin"}
    )
    assert invited.body["summary"]["invited"] == 1, invited.body
    accept_from_mail(browser, stack, admin_email, mark).close()

    # Sign in, select the organization, then User Management > Invitations.
    admin_context = context_for(browser, stack)
    page = admin_context.new_page()
    sign_in(page, stack, admin_email)
    page.get_by_role("link", name=created.body["name"]).click()
    page.get_by_role("link", name="Invitations").click()
    expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()
    expect(page.get_by_text("Seats: 0 used of 1, 1 available.")).to_be_visible()

    # Invite Users: two addresses typed, each turned into a chip by Tab; Invite Members.
    typed = [address("typed-a"), address("typed-b")]
    page.get_by_label("Email addresses").click()
    for email in typed:
        page.keyboard.type(email)
        page.keyboard.press("Tab")
    for email in typed:
        expect(page.get_by_role("button", name=f"Remove {email}")).to_be_visible()
    page.get_by_role("button", name="Invite Members").click()
    expect(page.locator("#invite-results").get_by_role("row").filter(has_text="invited")).to_have_count(2)

    # Bulk Upload: three more, with one bad line, which is reported by its number.
    uploaded = [address("csv-a"), address("csv-b")]
    csv = f"email\n{uploaded[0]}\nnot an email\n{uploaded[1]}\n".encode()
    page.get_by_label("CSV file").set_input_files({"name": "people.csv", "mimeType": "text/csv", "buffer": csv})
    page.get_by_role("button", name="Upload").click()
    upload = page.locator("#upload-results")
    expect(upload.get_by_role("row").filter(has_text="not an email")).to_contain_text("3")
    expect(upload.get_by_role("row").filter(has_text="invited")).to_have_count(2)

    # Resend one, remove another.
    page.goto(f"/orgs/{org_id}/invitations")
    page.get_by_role("button", name=f"Resend Email Invite to {typed[0]}").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Invitation to {typed[0]} sent again")
    page.get_by_role("button", name=f"Remove Invite to {uploaded[1]}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove Invite").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Invitation to {uploaded[1]} removed")

    # Many at once: Resend Invitations, tick two, Resend Invitations again, then Resend in the dialog.
    joining = [typed[1], uploaded[0]]
    mark = stack.mailbox.mark()
    page.get_by_role("link", name="Resend Invitations").click()
    for email in joining:
        page.get_by_role("checkbox", name=f"Select {email}").check()
    page.get_by_role("button", name="Resend Invitations").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Resend 2 invitations?")
    dialog.get_by_role("button", name="Resend", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Resend invitations: 2 resent.")

    # Both accept from the newest email (the resend made the first link stop working).
    people = {email: accept_from_mail(browser, stack, email, mark) for email in joining}

    # A member's view: Token Access only, and no seat yet.
    member_page = people[joining[0]].new_page()
    member_page.goto(f"/orgs/{org_id}/tokens")
    assert nav_links(member_page) == ["Token Access"]
    expect(member_page.get_by_text("You have no seat")).to_be_visible()
    assert member_page.goto(f"/orgs/{org_id}/users").status == 403  # type: ignore[union-attr]
    expect(member_page.get_by_role("heading", name="Not allowed")).to_be_visible()

    # Users: Assign Seats, tick both, Assign Users, Assign. One seat, so one of them gets it.
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Assign Seats").click()
    for email in joining:
        page.get_by_label(f"Select {email}").check()
    page.get_by_role("button", name="Assign Users").click()
    expect(page.get_by_role("heading", name="Assign seats?")).to_be_visible()
    page.get_by_role("button", name="Assign", exact=True).click()
    said = page.get_by_role("status").filter(has_text="Seats assigned to").inner_text()
    seated = next(email for email in joining if f"Seats assigned to: {email}." in said)
    unseated = next(email for email in joining if email != seated)
    assert f"No seat left for: {unseated}. Its only seat is taken" in said, said
    expect(page.get_by_text("Seats: 1 used of 1")).to_be_visible()
    assert_accessible(page, "the Users page after seats ran out")
    screenshot(page, "users-seats-ran-out")

    # The seated member issues a token on Token Access.
    holder = people[seated].new_page()
    holder.goto(f"/orgs/{org_id}/tokens")
    holder.get_by_label("Name").fill("laptop")
    holder.get_by_role("button", name="Issue Token").click()
    secret = holder.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("oat_") and verifies(stack, secret)

    # The admin revokes the seat on the Users page; the token verifies inactive at once.
    page.goto(f"/orgs/{org_id}/users")
    row(page, seated).get_by_role("button", name=f"Revoke Seat {seated}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke Seat", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="was revoked")).to_contain_text(seated)
    assert not verifies(stack, secret)
    holder.goto(f"/orgs/{org_id}/tokens")
    expect(holder.get_by_role("row", name=re.compile("laptop"))).to_contain_text("seat revoked")

    # Role changes: none offered on the admin's own row; the other invitee becomes a Billing Manager.
    own = row(page, admin_email)
    expect(own).to_contain_text("Administrators cannot change their own role.")
    expect(own.get_by_role("button", name=re.compile("^Assign as"))).to_have_count(0)
    row(page, unseated).get_by_role("button", name=f"Assign as Billing Manager {unseated}").click()
    page.get_by_role("dialog").get_by_role("button", name="Assign as Billing Manager", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="is now")).to_contain_text(
        f"{unseated} is now a Billing Manager."
    )

    # The billing manager's view: Users read-only and the seat capacity; no Invitations.
    manager = people[unseated].new_page()
    manager.goto(f"/orgs/{org_id}/users")
    assert nav_links(manager) == ["Users", "Token Access", "Settings"]
    expect(manager.get_by_role("row", name=re.compile(re.escape(seated)))).to_be_visible()
    expect(manager.get_by_role("button", name=re.compile("^(Assign|Revoke|Remove)"))).to_have_count(0)
    assert_accessible(manager, "the Users page as a billing manager")
    screenshot(manager, "users-billing-manager")
    manager.get_by_role("link", name="Settings").click()
    expect(manager.get_by_label("Seat capacity")).to_have_value("1")
    assert manager.goto(f"/orgs/{org_id}/invitations").status == 403  # type: ignore[union-attr]
    expect(manager.get_by_role("heading", name="Not allowed")).to_be_visible()

    # Remove from Organization, confirmed with Remove User: the removed person's pages are gone.
    page.goto(f"/orgs/{org_id}/users")
    row(page, seated).get_by_role("button", name=f"Remove from Organization {seated}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove User", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="was removed")).to_contain_text(f"{seated} was removed")
    expect(row(page, seated)).to_have_count(0)
    gone = holder.goto(f"/orgs/{org_id}/tokens")
    assert gone is not None and gone.status == 404
    expect(holder.get_by_role("heading", name="Page not found")).to_be_visible()
    assert not verifies(stack, secret)

    for context in (admin_context, *people.values()):
        context.close()
