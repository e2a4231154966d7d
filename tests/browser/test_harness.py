"""The browser-test harness itself, against the one page the service serves today (/docs) and its mail."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.harness import RunningStack
from tests.browser.screenshots import screenshot

PROBE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'"


def open_docs(page: Page) -> None:
    """/docs fills in #root from /openapi.json in the browser; wait until it has (or has given up)."""
    page.goto("/docs")
    expect(page).to_have_title("orgmembers API reference")
    expect(page.locator("#root")).not_to_have_text("Loading…")


def test_docs_page_shows_the_reference_with_no_serious_accessibility_violations(page: Page) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_docs(page)
    expect(page.get_by_role("banner")).to_contain_text("orgmembers API")
    expect(page.get_by_role("heading", name="invitations", exact=True)).to_be_visible()
    expect(page.locator("#root")).not_to_contain_text("Could not load")
    assert errors == []
    assert_accessible(page, "the API reference (/docs)")


def test_an_invitation_arrives_in_the_outbox_with_a_link_to_this_stack(page: Page, stack: RunningStack) -> None:
    invitee = f"harness-{uuid.uuid4().hex[:8]}@example.com"
    mark = stack.mailbox.mark()
    reply = stack.call(
        "POST",
        f"/v1/orgs/{stack.demo.org_id}/invitations",
        key=stack.demo.api_key,
        json={"emails": [invitee], "role": "member"},
    )
    assert reply.status == 200, reply.body
    assert reply.body["summary"]["invited"] == 1, reply.body

    mail = stack.mailbox.wait_for(invitee, f"You are invited to join {stack.demo.org_name}", after=mark)
    link = mail.link("See the invitation")
    assert link.startswith(f"{stack.base_url}/"), mail.links  # PUBLIC_BASE_URL is this stack
    assert link in mail.text_links, mail.text  # the text part carries the same link
    assert all(url.startswith(f"{stack.base_url}/") for url in [x.href for x in mail.links] + list(mail.text_links))

    # Read it as a person does: open the mail, click the link, land on the stack, see the invitation.
    mail.show_in(page)
    with page.expect_navigation(url=link) as navigation:
        page.get_by_role("link", name="See the invitation").click()
    response = navigation.value
    assert response is not None
    assert response.ok, (response.status, response.text()[:500])
    expect(page.locator("body")).to_contain_text(invitee)


def test_axe_injects_under_a_strict_csp_and_names_what_fails(page: Page, stack: RunningStack) -> None:
    """The console serves a CSP without inline script: axe must still run, and its report must be readable."""
    url = f"{stack.base_url}/__harness_probe"  # answered here, in the browser; the stack never sees it
    body = '<!doctype html><html lang="en"><title>probe</title><main><img src="/x.png"><button></button></main>'
    page.route(
        url,
        lambda route: route.fulfill(
            body=body, content_type="text/html", headers={"Content-Security-Policy": PROBE_CSP}
        ),
    )
    page.goto(url)
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "the probe page")
    message = str(failed.value)
    assert "on the probe page" in message
    assert "[critical] image-alt: Images must have alternative text" in message
    assert "[critical] button-name:" in message
    assert "    main > img" in message or "    img" in message


def test_mobile_page_is_a_360_px_phone_and_screenshots_are_whole_pages(
    mobile_page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    # A page of its own, so what is checked is the fixture and the helper, not how /docs lays out.
    url = f"{stack.base_url}/__harness_tall"
    body = (
        '<!doctype html><html lang="en"><meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>tall</title><main>" + "<p>line</p>" * 200 + "</main>"
    )
    mobile_page.route(url, lambda route: route.fulfill(body=body, content_type="text/html"))
    mobile_page.goto(url)
    assert mobile_page.evaluate("() => [window.innerWidth, window.screen.width, navigator.maxTouchPoints > 0]") == [
        360,
        360,
        True,
    ]
    path = screenshot(mobile_page, "harness-phone", folder=tmp_path / "screenshots")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width == 360
    assert height == mobile_page.evaluate("() => document.documentElement.scrollHeight") > 780
    with pytest.raises(ValueError):
        screenshot(mobile_page, "../outside", folder=tmp_path)
