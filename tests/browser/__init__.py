"""Browser tests: Chromium (Playwright) against a whole local stack, with axe-core and the mail outbox.

Under pytest-xdist every test in this folder runs on one worker (see the root conftest.py), so only one
stack and one Chromium start per run.
"""
