"""The ``orgmembers`` CLI against the real app over HTTP on DynamoDB Local."""

from __future__ import annotations

import json
from pathlib import Path

from .cli_support import ORGMEMBERS, Served, served, write_csv

__all__ = ["served"]


def test_the_command_is_installed_and_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    assert ORGMEMBERS.exists(), "make install puts the orgmembers command in the virtualenv (pip install -e .)"


def test_orgs_lists_the_admins_orgs(served: Served) -> None:
    done = served.run("orgs", "--output", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["org_id"], r["role"]) for r in rows] == [(served.seed.org_id, "account_admin")]
