"""The committed route table is what the route modules declare, and the app serves exactly it lazily."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRESH = (
    "import app, json, sys;"
    " print(json.dumps(sorted(m for m in sys.modules if m.startswith(('chalicelib', 'pydantic', 'jinja2')))))"
)


def test_the_route_table_matches_the_route_modules() -> None:
    result = subprocess.run(
        [sys.executable, "deploy/build_route_table.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_app_loads_no_route_module_and_no_pydantic() -> None:
    loaded = subprocess.run([sys.executable, "-c", FRESH], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = json.loads(loaded.stdout)
    assert not [m for m in modules if m.startswith(("pydantic", "jinja2"))]
    assert not [m for m in modules if ".routes" in m or m.startswith(("chalicelib.services", "chalicelib.storage"))]
    assert "chalicelib.route_table" in modules
