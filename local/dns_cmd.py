"""Local DNS records: ``python -m local dns set|list|remove``, and verifying a domain on the local stack.

The embedded responder (``local/dns_server.py``) serves the TXT records of
``$LOCAL_DIR/dns.json`` and re-reads the file when it changes, so a record
set here is answered at once by the running stack.
"""

from __future__ import annotations

import json
import logging
import sys

from .dns_server import RecordStore
from .files import StackFiles

log = logging.getLogger("local")


def verify_local_domain(files: StackFiles, org_id: str, account_id: str, domain: str) -> bool:
    """Claim ``domain`` for the org (or reuse its claim), publish the TXT record locally, verify.

    Runs the real path: the domains service, then a DNS query to the stack's
    responder. Returns whether the domain is verified for the org now.
    """
    from chalicelib.domain.errors import DomainAlreadyClaimed, DomainError
    from chalicelib.domain.models import Actor
    from chalicelib.services import domains

    if domains.is_verified(org_id, domain):
        return True
    actor = Actor(actor=f"account:{account_id}", request_id="local-stack", account_id=account_id)
    try:
        try:
            claimed = domains.claim(org_id, actor, domain)
        except DomainAlreadyClaimed:
            claimed = next(d for d in domains.list_domains(org_id, actor) if d.domain == domain)
        RecordStore(files.dns_json).set(claimed.record_name, claimed.record_value)
        domains.verify(org_id, actor, domain)
    except DomainError as exc:
        log.warning("could not verify %s for org %s: %s (%s)", domain, org_id, exc.code, exc.message)
        return False
    log.info("domain %s verified for org %s (TXT %s in %s)", domain, org_id, claimed.record_name, files.dns_json)
    return True


def main(action: str, name: str | None, value: str | None) -> int:
    store = RecordStore(StackFiles.from_env().dns_json)
    if action == "set":
        if not name or not value:
            print("usage: python -m local dns set NAME VALUE", file=sys.stderr)
            return 2
        store.set(name, value)
        print(f"TXT {name.rstrip('.').lower()} {value!r} (in {store.path})", file=sys.stderr)
        return 0
    if action == "remove":
        if not name:
            print("usage: python -m local dns remove NAME", file=sys.stderr)
            return 2
        store.remove(name)
        return 0
    print(json.dumps(store.all(), indent=2, sort_keys=True))
    return 0
