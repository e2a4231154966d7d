"""Project-wide pytest hooks, loaded before collection and also in pytest-xdist's controller process.

One hook: under ``-n`` (as ``make test`` runs), every test under tests/browser/ goes to one xdist
worker, in one batch at the start, so a run starts one local stack and one Chromium (session
fixtures), not one per worker. Everything else is distributed as xdist's default ``load`` does.

Why not ``xdist_group`` marks with ``--dist loadgroup``: with pytest 9.2 xdist 3.8 ignores the marks
(it writes the group into a node-id field pytest no longer reads: pytest-dev/pytest-xdist#1386), and
loadgroup schedules by node id, so schemathesis' 44 operations in tests/integration/test_fuzz.py, which share
one node id, would run as one.
"""

from __future__ import annotations

from typing import Any

import pytest

BROWSER_TESTS = "tests/browser/"  # node ids are relative to the rootdir, where pyproject.toml is


@pytest.hookimpl(optionalhook=True)  # the hook exists only while xdist is loaded (not with -p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "load":
        return None  # another --dist was asked for: xdist's own
    from xdist.scheduler import LoadScheduling

    class BrowserTestsOnOneWorker(LoadScheduling):
        """xdist's ``load``, except that the first batch sent out carries all the browser tests."""

        pinned = False

        def _send_tests(self, node: Any, num: int) -> None:
            if not self.pinned and self.collection is not None:
                self.pinned = True
                browser = [i for i in self.pending if self.collection[i].startswith(BROWSER_TESTS)]
                if browser:
                    self.pending[:] = [i for i in self.pending if not self.collection[i].startswith(BROWSER_TESTS)]
                    self.node2pending[node].extend(browser)
                    node.send_runtest_some(browser)
            super()._send_tests(node, num)

    return BrowserTestsOnOneWorker(config, log)
