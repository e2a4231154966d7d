"""One embedded DNS responder per test process (local/dns_server.py, the local stack's own).

conftest points ``DNS_RESOLVER`` at it, so domain verification in tests makes
a real DNS query over UDP. Records are only ever added (values are random per
claim), so tests sharing a name never see each other's challenge.
"""

from __future__ import annotations

from local.dns_server import DnsResponder, RecordStore

_responder: DnsResponder | None = None


def responder() -> DnsResponder:
    global _responder
    if _responder is None:
        _responder = DnsResponder(RecordStore()).start()
    return _responder


def publish(name: str, value: str) -> None:
    """Add a TXT text at ``name`` on the test responder."""
    responder().store.set(name, value)
