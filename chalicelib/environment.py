"""The few settings read at import time, straight from the environment.

Why: ``config.Settings`` is a pydantic model, and building it at import put
pydantic on every function's cold start just to name the streams in the
stream handlers' decorators. These readers follow ``Settings.from_env``'s
rule (the upper-cased field name; an empty value keeps the default), and
``Settings`` keeps the same fields, so the template check still covers them.
"""

from __future__ import annotations

import os

PLACEHOLDER_STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/placeholder/stream/1970-01-01T00:00:00.000"


def stream_arn(table: str) -> str:
    """The stream ARN of a table (``members``, ``invitations``, ``sessions``): ``<TABLE>_STREAM_ARN``."""
    return os.environ.get(f"{table.upper()}_STREAM_ARN") or PLACEHOLDER_STREAM_ARN
