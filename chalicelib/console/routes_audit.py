"""Pages: the organization's audit (web console, admin area)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
