"""Cold start proxy: wall time of `python -c "import app"`, ours vs a bare Chalice app.

The baseline is a one-route Chalice app that imports boto3 and pynamodb (what
any Chalice + DynamoDB function pays anyway), measured in the same run with
runs interleaved so machine noise hits both alike. Target: ratio <= 1.3.

Usage: python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))

from build_template import RUNTIME_ENV  # noqa: E402

BARE_APP = """
import boto3
import pynamodb.models
from chalice import Chalice

app = Chalice(app_name="bare")


@app.route("/")
def index():
    return {}
"""


def import_time(cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import app"], cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # The environment a deployed function has (SES mailer, key named in SSM, runtime switches).
    env = {
        **os.environ,
        **RUNTIME_ENV,
        "AWS_DEFAULT_REGION": "us-east-1",
        "MAIL_BACKEND": "ses",
        "LINK_SIGNING_KEY_PARAMETER": "/orgmembers/bench/link-signing-key",
    }
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp)
        (bare / "app.py").write_text(BARE_APP)
        # Warm the OS file cache and .pyc files once for both, then measure.
        import_time(ROOT, env)
        import_time(bare, env)
        ours, base = [], []
        for _ in range(args.runs):
            ours.append(import_time(ROOT, env))
            base.append(import_time(bare, env))
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(base) * 1000
    print(f"runs: {args.runs} each, interleaved")
    print(f"bare chalice + boto3 + pynamodb: median {base_ms:.0f} ms")
    print(f"this app:                        median {ours_ms:.0f} ms")
    print(f"ratio: {ours_ms / base_ms:.2f} (target <= 1.30)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
