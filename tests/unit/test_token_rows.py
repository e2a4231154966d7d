"""The Tokens repository's fast decoding reads a stored item exactly as pynamodb's model does (no AWS)."""

from datetime import UTC, datetime, timedelta

from chalicelib.storage.tokens import TokenModel, _decoded, _record

T0 = datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC)


def test_every_attribute_decodes_as_the_model_decodes_it() -> None:
    item = TokenModel(
        "h" * 64,
        token_id="tok_1",
        kind="access_token",
        owner="org#org_1#acct#acc_1",
        account_id="acc_1",
        org_id="org_1",
        name="laptop",
        created_at=T0,
        expires_at=T0 + timedelta(days=30),
        last_used_at=T0 + timedelta(hours=1),
        revoked_at=T0 + timedelta(days=2),
        revoked_reason="seat_revoked",
        seat_generation=7,
        member_joined_at=T0 - timedelta(days=1),
        created_by="account:acc_2",
        notice_pending="maker_removed",
        awaiting_handover=True,
    )
    raw = item.serialize()
    assert _decoded(raw) == _record(TokenModel.from_raw_data(raw))
    assert _decoded(raw).seat_generation == 7 and _decoded(raw).awaiting_handover


def test_a_minimal_item_decodes_with_the_same_defaults() -> None:
    raw = TokenModel("k" * 64, token_id="key_1", kind="api_key", owner="acct#acc_1", created_at=T0).serialize()
    decoded = _decoded(raw)
    assert decoded == _record(TokenModel.from_raw_data(raw))
    assert decoded.seat_generation == 0 and decoded.expires_at is None and not decoded.awaiting_handover
