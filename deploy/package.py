"""Package a stage for CloudFormation, offline: merge template, chalice package, cfn-lint.

Needs a region (for ARNs chalice writes) but no credentials and no AWS calls.
Writes ``<out>/sam.json`` and ``<out>/deployment.zip``. Used by ``make package``
and by tests/test_package.py, so both run exactly the same steps.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))

import build_template  # noqa: E402

MAX_ZIP_BYTES = 25 * 1024 * 1024  # Lambda allows 50 MB zipped; stay well under it


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
    print(f"{template.relative_to(ROOT) if template.is_relative_to(ROOT) else template}: ok; zip {size / 1e6:.1f} MB")
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
