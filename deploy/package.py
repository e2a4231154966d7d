"""Package a stage for CloudFormation, offline: merge template, chalice package, cfn-lint.

Needs a region (for ARNs chalice writes) but no credentials and no AWS calls.
Writes ``<out>/sam.json`` and ``<out>/deployment.zip``. Used by ``make package``
and by tests/integration/test_package.py, so both run exactly the same steps.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))

import build_template  # noqa: E402
from build_template import RUNTIME_ENV  # noqa: E402

MAX_ZIP_BYTES = 25 * 1024 * 1024  # Lambda allows 50 MB zipped; stay well under it


def handler_modules(template: dict[str, object]) -> list[str]:
    """Modules Lambda imports at cold start: every function's handler module."""
    modules = set()
    for resource in template["Resources"].values():  # type: ignore[attr-defined]
        if resource.get("Type") == "AWS::Serverless::Function":
            modules.add(resource["Properties"]["Handler"].rpartition(".")[0])
    return sorted(modules)


def precompile(zip_path: Path, template: dict[str, object]) -> int:
    """Add bytecode for every module the handlers import at cold start or on first use; returns how many.

    Lambda's code directory is read-only, so without .pyc files every cold start
    compiles each imported module from source. The route modules load with their
    first request and the stream and schedule services with their first event, so
    they are imported here too. The import runs in a clean
    interpreter (-S: nothing but the package), which also proves the package
    imports on its own. Unchecked-hash .pyc files do not depend on file times.
    """
    runtime = template["Resources"]["APIHandler"]["Properties"]["Runtime"]  # type: ignore[index]
    if runtime != f"python{sys.version_info.major}.{sys.version_info.minor}":
        raise SystemExit(f"bytecode must be compiled by the runtime's Python ({runtime}), not {sys.version}")
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tmp)
        script = (
            "import importlib, json, sys\n"
            f"for name in {handler_modules(template)!r}: importlib.import_module(name)\n"
            "from chalicelib.lazy_routes import import_all\n"
            "import_all()\n"
            "import chalicelib.services.jobs, chalicelib.services.stream_changes\n"
            "print(json.dumps(sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())})))\n"
        )
        result = subprocess.run(
            [sys.executable, "-S", "-c", script],
            cwd=tmp,
            env={"PYTHONPATH": tmp, "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1", **RUNTIME_ENV},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"the package does not import on its own:\n{result.stderr}")
        root = Path(tmp).resolve()
        sources = [Path(f) for f in json.loads(result.stdout) if f.endswith(".py") and Path(f).is_relative_to(root)]
        compiled: dict[str, bytes] = {}
        for source in sources:
            cached = Path(importlib.util.cache_from_source(str(source)))
            py_compile.compile(
                str(source),
                cfile=str(cached),
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled[cached.relative_to(root).as_posix()] = cached.read_bytes()
        # Rewrite the zip: drop any bytecode chalice copied from a working tree
        # (timestamp-checked against other files, so never used), add ours.
        rebuilt = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(zip_path) as old, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as new:
            for info in old.infolist():
                if "__pycache__/" not in info.filename and not info.filename.endswith(".pyc"):
                    new.writestr(info, old.read(info))
            for name, data in sorted(compiled.items()):
                entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                new.writestr(entry, data)
        rebuilt.replace(zip_path)
    return len(sources)


def package(stage: str, out: Path, check_only: bool = False, lint: bool = True) -> Path:
    """Build ``out`` for ``stage``; returns the template path. Raises on any failure."""
    merge = build_template.OUTPUT
    for path, text in build_template.outputs().items():
        if not path.exists() or path.read_text() != text:
            if check_only:
                raise SystemExit(f"{path.name} is stale: run `python deploy/build_template.py`")
            path.write_text(text)
    if out.exists():
        shutil.rmtree(out)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    # Packaging makes no AWS call; make sure nothing can pick up real credentials either.
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    chalice = [sys.executable, "-c", "from chalice.cli import main; main()"]
    subprocess.run(
        [*chalice, "package", "--stage", stage, "--merge-template", str(merge), str(out)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    template = out / "sam.json"
    compiled = precompile(out / "deployment.zip", json.loads(template.read_text()))
    if lint:
        subprocess.run(
            [sys.executable, "-c", "from cfnlint.runner import main; main()", str(template)],
            cwd=ROOT,
            env=env,
            check=True,
        )
    size = (out / "deployment.zip").stat().st_size
    if size > MAX_ZIP_BYTES:
        raise SystemExit(f"deployment.zip is {size} bytes, over the {MAX_ZIP_BYTES} byte budget")
    shown = template.relative_to(ROOT) if template.is_relative_to(ROOT) else template
    print(f"{shown}: ok; zip {size / 1e6:.1f} MB with bytecode for {compiled} cold-start modules")
    return template


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", default=str(ROOT / "out"))
    parser.add_argument("--check", action="store_true", help="fail instead of rewriting a stale deploy/resources.json")
    args = parser.parse_args()
    package(args.stage, Path(args.out), check_only=args.check)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
