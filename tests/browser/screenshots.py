"""Full-page screenshots of the console's pages, for the README (docs/screenshots/).

Every browser run takes them (so a page that cannot be drawn fails the run),
but only ``UPDATE_SCREENSHOTS=1 make test`` writes them into docs/: the
pages show a run's random addresses, ports and secrets, so an ordinary run
would otherwise leave changed PNGs in the working tree every time.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"
SCREENSHOTS = (
    DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "console-screenshots"
)


def screenshot(page: Page, name: str, *, folder: Path = SCREENSHOTS) -> Path:
    """Save ``<folder>/<name>.png`` (the whole page, not just the viewport) and return its path.

    Animations are stopped and the caret hidden, so a page gives the same picture for the same data.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise ValueError(f"screenshot name {name!r}: lower-case letters, digits, '.', '_' and '-' only")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    return path
