"""Fixtures for the browser tests: one local stack and one Chromium per session, a fresh page per test.

- ``stack``: a ``python -m local run`` started once per session (``RunningStack``: ``base_url``,
  ``local_dir``, ``outbox``, ``mailbox``, ``demo``, ``call(method, path, key=None, json=None)``).
  It runs on DynamoDB Local unless BACKEND=moto is set in the environment.
- ``browser``: headless Debian Chromium (/usr/bin/chromium) driven by Playwright.
- ``page``: a new context and page per test, 1280x900, ``base_url`` set to the stack's
  (so ``page.goto("/docs")`` works), ``bypass_csp=True`` so axe can be injected into pages
  that serve a strict Content-Security-Policy.
- ``mobile_page``: the same at 360 px wide, as a phone (touch, mobile viewport).

Session fixtures live once per pytest process; under pytest-xdist every worker is one. The project's
root conftest.py sends every test in this folder to one worker (with ``-n``, as ``make test`` runs),
so a run starts one stack and one Chromium, not one per worker.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, sync_playwright
from pytest import TestReport

from tests.browser.harness import RunningStack, launch_chromium, start_stack

TIMEOUT_MS = 15_000  # Playwright's default is 30 s; a page of this app that takes longer is broken
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 780}
_running: list[RunningStack] = []  # the session's stack, for failure reports


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("browser-stack"))
    _running.append(running)
    try:
        yield running
    finally:
        _running.remove(running)
        running.stop()


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    chromium = launch_chromium(_playwright)
    try:
        yield chromium
    finally:
        chromium.close()


def _new_page(
    browser: Browser, stack: RunningStack, viewport: ViewportSize, phone: bool
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        base_url=stack.base_url, bypass_csp=True, viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    context, new = _new_page(browser, stack, DESKTOP, phone=False)
    try:
        yield new
    finally:
        context.close()


@pytest.fixture
def mobile_page(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    context, new = _new_page(browser, stack, PHONE, phone=True)
    try:
        yield new
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, TestReport]:
    """A failed browser test carries the end of the stack's output (its pumps' and mail lines) in its report."""
    report = yield
    if report.failed and _running:
        report.sections.append(("local stack output (last 80 lines)", _running[0].log_tail(80)))
    return report
