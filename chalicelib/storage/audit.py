"""Audit table.

Keys: ``org_id`` (hash), ``sk`` = ``<ISO time>#<audit id>`` (range), so a
query in reverse gives newest first and ``since`` is a key condition.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.models import Model

from .base import register


@register
class AuditModel(Model):
    class Meta:
        base_name = "audit"
        table_name = "audit"

    org_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    audit_id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    request_id = UnicodeAttribute()
    details = JSONAttribute(null=True)
