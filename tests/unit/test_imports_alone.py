"""Every module of the app imports on its own, first: no import cycle waits for a lucky import order.

A cycle shows only when one of its modules is imported before the others
(``app.py``'s order may hide it while a benchmark, a script or a Lambda
handler importing another module first fails). Each module is imported in a
fresh child (forked after the third-party packages are loaded, so the check
takes seconds).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = r"""
import importlib, os, sys, traceback
# Loaded once, shared by every child: the third-party packages, never a module of the app.
import boto3, boto3.session, botocore.session, chalice, pynamodb.connection, pynamodb.models
import pydantic, pydantic.types, pydantic._internal._generate_schema, pydantic_settings

class _Warm(pydantic.BaseModel):  # pydantic's lazy schema machinery, built once
    name: str = ""

failed, running = [], {}
names = list(sys.argv[1:])
while names or running:
    while names and len(running) < (os.cpu_count() or 1):
        name = names.pop()
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        running[pid] = name
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]
print("FAILED " + " ".join(sorted(failed)) if failed else "OK")
"""


def app_modules() -> list[str]:
    package = ROOT / "chalicelib"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_app_module_imports_on_its_own() -> None:
    modules = app_modules()
    assert "chalicelib.services.abuse_limits" in modules and len(modules) > 100
    done = subprocess.run(
        [sys.executable, "-c", CHECK, *modules], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip().endswith("OK"), done.stdout + done.stderr[-4000:]
