"""axe-core (from node_modules) run in the page under test; serious and critical violations fail the test.

The console serves a strict Content-Security-Policy without inline script, so the script tag that
injects axe is allowed only because the test contexts are made with ``bypass_csp=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
MAX_TARGETS = 8  # per rule in the message; the rest are counted


def run_axe(page: Page, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """axe's results for the page as it is now (axe is injected again after each navigation)."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS.relative_to(ROOT)} is missing: `make install` runs npm install")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        try:
            page.add_script_tag(path=str(AXE_JS))
        except PlaywrightError as exc:
            raise AssertionError(
                "axe-core could not be injected; under a Content-Security-Policy the browser context must be "
                f"made with bypass_csp=True, as the page fixtures do: {exc.message}"
            ) from exc
    result: dict[str, Any] = page.evaluate(
        "async (options) => await window.axe.run(document, options)",
        {"resultTypes": ["violations"], **(options or {})},
    )
    return result


def _target(node: dict[str, Any]) -> str:
    # A target is a list of selectors: one per frame or shadow root on the way to the element.
    return " >>> ".join(s if isinstance(s, str) else " > ".join(s) for s in node.get("target", []))


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for v in violations:
        nodes = v.get("nodes", [])
        lines.append(f"- [{v.get('impact')}] {v['id']}: {v.get('help')} ({v.get('helpUrl')})")
        lines.extend(f"    {_target(n)}" for n in nodes[:MAX_TARGETS])
        if len(nodes) > MAX_TARGETS:
            lines.append(f"    ... and {len(nodes) - MAX_TARGETS} more")
    return "\n".join(lines)


def assert_accessible(page: Page, context_name: str, *, disable_rules: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Fail on serious/critical axe violations, naming each rule, its help and the elements.

    Returns the milder violations (minor, moderate), for a test that wants to look at them.
    ``disable_rules`` turns rules off by id; say why next to the call.
    """
    options: dict[str, Any] = {"rules": {rule: {"enabled": False} for rule in disable_rules}}
    violations: list[dict[str, Any]] = run_axe(page, options)["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    if blocking:
        raise AssertionError(
            f"{len(blocking)} serious or critical accessibility violation(s) on {context_name} ({page.url}):\n"
            + format_violations(blocking)
        )
    return [v for v in violations if v.get("impact") not in BLOCKING]
