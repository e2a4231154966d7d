"""Cold start proxy: wall time of `python -c "import app"`, ours vs a bare Chalice app.

The baseline is a one-route Chalice app that imports boto3 and pynamodb (what
any Chalice + DynamoDB function pays anyway), measured in the same run with
runs interleaved so machine noise hits both alike. Target: ratio <= 1.3.

Usage: python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def import_time(cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh interpreter importing ``app`` in ``cwd``.

    CPU time (user + sys of the child) is reported too: on a shared machine it
    is far less noisy than wall time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import app"], cwd=cwd, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
    print(f"runs: {args.runs} each, interleaved; medians")
    for i, label in ((0, "wall"), (1, "CPU ")):
        ours_ms = statistics.median(run[i] for run in ours) * 1000
        base_ms = statistics.median(run[i] for run in base) * 1000
        print(
            f"{label}: bare chalice + boto3 + pynamodb {base_ms:.0f} ms, this app {ours_ms:.0f} ms, "
            f"ratio {ours_ms / base_ms:.2f} (target <= 1.30)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
