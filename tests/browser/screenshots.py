"""Full-page screenshots for the README, kept in the repository under docs/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshot(page: Page, name: str, *, folder: Path = SCREENSHOTS) -> Path:
    """Save ``<folder>/<name>.png`` (the whole page, not just the viewport) and return its path.

    Animations are stopped and the caret hidden, so the same page gives the same picture on every run
    and the PNGs in git change only when the page does.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise ValueError(f"screenshot name {name!r}: lower-case letters, digits, '.', '_' and '-' only")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    return path
