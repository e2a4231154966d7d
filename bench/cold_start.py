"""Cold start proxy: wall time of `python -c "import app"`, ours vs a bare Chalice app.

The app registers its routes from a table and imports a route's module on
the first request that needs it, so `import app` alone says little about
what a cold start costs: each run also times a fresh interpreter that
imports the app and answers its first request in process (the API's
POST /v1/tokens/verify with a malformed token, which loads the route
module, pydantic, the services and the models but calls no AWS), against
the bare app answering its own first request, and the app with every route
module imported (what `import app` cost before routes loaded lazily).

The baseline is a Chalice app that imports boto3 and pynamodb (what any
Chalice + DynamoDB function pays anyway), measured in the same run with runs
interleaved so machine noise hits both alike. Target: ratio <= 1.3.

1. Working tree: both apps with bytecode caches (the project's sources are
   compiled first, as installed dependencies already are).
2. With --zip (default out/deployment.zip when present): the deployment
   package extracted, imported with -S (nothing but the package) and no
   bytecode writes, like Lambda: as shipped (cold-start bytecode included),
   with the bytecode stripped (what a plain `chalice package` ships), and the
   bare app in that stripped copy (both compile from source: like for like).

CPU time (user + sys of the child) is printed beside wall time: on a shared
machine it is far less noisy.

3. With --with MODULE (repeatable): the app plus that module, beside the
   app alone, to price a library before it goes on the API's cold path
   (``--path`` adds where it is installed, e.g. a ``pip install --target``
   folder, so it need not be in the project's requirements).

Usage: python bench/cold_start.py [--runs 15] [--zip out/deployment.zip] [--with MODULE --path DIR]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
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

# A first request through the Lambda handler, no network: an API Gateway proxy event.
FIRST_REQUEST = """
import json
from app import app
path, method, body = {request!r}
event = {{
    "resource": path, "path": path, "httpMethod": method, "headers": {{"content-type": "application/json"}},
    "multiValueHeaders": {{}}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "stageVariables": None, "body": body, "isBase64Encoded": False,
    "requestContext": {{"resourcePath": path, "httpMethod": method, "requestId": "bench", "path": path}},
}}
answer = app(event, None)
assert answer["statusCode"] == 200, answer
"""
OUR_FIRST_REQUEST = FIRST_REQUEST.format(request=("/v1/tokens/verify", "POST", '{"token": "malformed"}'))
BARE_FIRST_REQUEST = FIRST_REQUEST.format(request=("/", "GET", None))
EVERY_ROUTE_MODULE = "import app; from chalicelib.lazy_routes import import_all; import_all()"

Case = tuple[Path, str, dict[str, str], list[str]]  # cwd, Python code to run, environment, interpreter flags


def import_time(case: Case) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh interpreter running the case's code."""
    cwd, code, env, flags = case
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *flags, "-c", code], cwd=cwd, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(cases: dict[str, Case], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) ms per case; one warm-up each, then interleaved runs."""
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
    for case in cases.values():
        import_time(case)
    for _ in range(runs):
        for label, case in cases.items():
            samples[label].append(import_time(case))
    return {
        label: (statistics.median(s[0] for s in runs_) * 1000, statistics.median(s[1] for s in runs_) * 1000)
        for label, runs_ in samples.items()
    }


def report(title: str, results: dict[str, tuple[float, float]], pairs: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    for label, (wall, cpu) in results.items():
        print(f"  {label:<44} wall {wall:6.0f} ms   CPU {cpu:6.0f} ms")
    for ours, base in pairs:
        wall = results[ours][0] / results[base][0]
        cpu = results[ours][1] / results[base][1]
        print(f"  ratio {ours} / {base}: wall {wall:.2f}, CPU {cpu:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--zip", type=Path, default=ROOT / "out" / "deployment.zip")
    parser.add_argument("--with", dest="extra", action="append", default=[], help="also time the app plus MODULE")
    parser.add_argument("--path", action="append", default=[], help="a folder to find --with modules in")
    args = parser.parse_args()
    # The environment a deployed function has (SES mailer, key named in SSM, runtime switches).
    env = {
        **os.environ,
        **RUNTIME_ENV,
        "AWS_DEFAULT_REGION": "us-east-1",
        "MAIL_BACKEND": "ses",
        "LINK_SIGNING_KEY_PARAMETER": "/orgmembers/bench/link-signing-key",
    }
    compileall.compile_dir(ROOT / "chalicelib", quiet=1)
    compileall.compile_file(ROOT / "app.py", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare"
        bare.mkdir()
        (bare / "app.py").write_text(BARE_APP)
        print(f"runs: {args.runs} per case, interleaved; medians")
        if args.extra:
            found = os.pathsep.join([*args.path, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            with_env = {**env, "PYTHONPATH": found}
            cases = {"this app": (ROOT, "import app", with_env, [])}
            cases.update({f"this app + {m}": (ROOT, f"import app, {m}", with_env, []) for m in args.extra})
            cases["bare app"] = (bare, "import app", with_env, [])
            results = measure(cases, args.runs)
            pairs = [(f"this app + {m}", "this app") for m in args.extra] + [("this app", "bare app")]
            report("working tree (bytecode cached), with extra modules", results, pairs)
            return 0
        tree: dict[str, Case] = {
            "this app": (ROOT, "import app", env, []),
            "bare app": (bare, "import app", env, []),
            "this app, first request": (ROOT, OUR_FIRST_REQUEST, env, []),
            "bare app, first request": (bare, BARE_FIRST_REQUEST, env, []),
            "this app, every route module": (ROOT, EVERY_ROUTE_MODULE, env, []),
        }
        results = measure(tree, args.runs)
        report(
            "working tree (bytecode cached)",
            results,
            [
                ("this app", "bare app"),
                ("this app, first request", "bare app, first request"),
                ("this app, every route module", "bare app"),
            ],
        )

        if not args.zip.exists():
            print(f"\n(no {args.zip}: run `make package` for the packaged measurement)")
            return 0
        shipped, stripped = Path(tmp) / "shipped", Path(tmp) / "stripped"
        with zipfile.ZipFile(args.zip) as archive:
            archive.extractall(shipped)
        shutil.copytree(shipped, stripped, ignore=shutil.ignore_patterns("__pycache__"))
        (stripped / "bare_app.py").write_text(BARE_APP)
        lambda_env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
            **{k: v for k, v in env.items() if k in RUNTIME_ENV or k in ("MAIL_BACKEND", "LINK_SIGNING_KEY_PARAMETER")},
        }
        cases: dict[str, Case] = {
            "package as shipped": (shipped, "import app", {**lambda_env, "PYTHONPATH": str(shipped)}, ["-S"]),
            "package without bytecode (chalice default)": (
                stripped,
                "import app",
                {**lambda_env, "PYTHONPATH": str(stripped)},
                ["-S"],
            ),
            "bare app, no bytecode": (stripped, "import bare_app", {**lambda_env, "PYTHONPATH": str(stripped)}, ["-S"]),
            "package as shipped, first request": (
                shipped,
                OUR_FIRST_REQUEST,
                {**lambda_env, "PYTHONPATH": str(shipped)},
                ["-S"],
            ),
            "bare app, no bytecode, first request": (
                stripped,
                BARE_FIRST_REQUEST.replace("from app import app", "from bare_app import app"),
                {**lambda_env, "PYTHONPATH": str(stripped)},
                ["-S"],
            ),
        }
        results = measure(cases, args.runs)
        report(
            f"deployment package {args.zip.name} ({args.zip.stat().st_size / 1e6:.1f} MB), Lambda-like",
            results,
            [
                ("package without bytecode (chalice default)", "bare app, no bytecode"),
                ("package as shipped", "package without bytecode (chalice default)"),
                ("package as shipped, first request", "bare app, no bytecode, first request"),
            ],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
