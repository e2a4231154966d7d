"""Tokens table: every bearer credential, by the SHA-256 of its secret.

Keys: ``token_hash`` (hash). ``kind`` is one of ``api_key`` (oak_),
``access_token`` (oat_), ``scim_token`` (osc_), ``login_code``.
Index: GSI ``by_owner`` on (``owner``, ``token_id``) for listing and the
revocation cascade. ``owner`` is ``acct#<account>`` for API keys,
``org#<org>#acct#<account>`` for access tokens, ``org#<org>#scim`` for SCIM
tokens, ``login#<account>`` for login codes.
Access tokens stamp the member's ``seat_generation`` and ``joined_at``
(``member_joined_at``) at issue: a token outlives neither its seat nor its
membership, even when a seat or membership is granted again later.
SCIM tokens name their maker: ``account_id`` is the admin who created one and
``member_joined_at`` that admin's membership; the token works only while
that membership still may manage SCIM (invariant 10). ``notice_pending``
holds the revocation reason until the remaining admins were emailed about it.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from .base import register


def api_key_owner(account_id: str) -> str:
    return f"acct#{account_id}"


def access_token_owner(org_id: str, account_id: str) -> str:
    return f"org#{org_id}#acct#{account_id}"


def scim_token_owner(org_id: str) -> str:
    return f"org#{org_id}#scim"


class TokensByOwner(GlobalSecondaryIndex["TokenModel"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    token_id = UnicodeAttribute(range_key=True)


@register
class TokenModel(Model):
    class Meta:
        base_name = "tokens"
        table_name = "tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    token_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    owner = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    org_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    seat_generation = NumberAttribute(null=True)
    member_joined_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    notice_pending = UnicodeAttribute(null=True)
    # Set on a token issued inside a bulk call until the call's answer (which alone carries the
    # secret) is ready: such a token does not verify, so a crash in between strands no live secret.
    awaiting_handover = BooleanAttribute(null=True)

    by_owner = TokensByOwner()
