"""Command line: ``python -m local run``, ``python -m local bootstrap --org NAME --admin-email EMAIL``,
``python -m local dns set NAME VALUE`` (also ``dns list``, ``dns remove NAME``),
``python -m local mail [--to EMAIL] [--all]`` (the newest message of the outbox, with its links)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run",
        help="start the local stack (env: PORT=8000, LOCAL_DIR=.local, BACKEND=dynamodb-local|moto)",
    )
    boot = commands.add_parser(
        "bootstrap",
        help="create an org and its admin; print {org_id, account_id, api_key} as JSON",
    )
    boot.add_argument("--org", required=True, help="organization name")
    boot.add_argument("--admin-email", required=True, help="email of its first account_admin")
    boot.add_argument("--seats", type=int, default=0, help="purchased seat capacity (default 0)")
    dns = commands.add_parser("dns", help="TXT records of the local stack's DNS responder ($LOCAL_DIR/dns.json)")
    dns.add_argument("action", choices=("set", "list", "remove"))
    dns.add_argument("name", nargs="?", help="e.g. _orgs-challenge.acme.test")
    dns.add_argument("value", nargs="?", help="the TXT text, e.g. orgs-verification=...")
    mail = commands.add_parser("mail", help="print the newest message of the outbox with its links")
    mail.add_argument("--to", help="only messages to this address")
    mail.add_argument("--all", action="store_true", help="every message, oldest first")
    args = parser.parse_args(argv)
    if args.command == "run":
        from .stack import run

        return run()
    if args.command == "mail":
        from .mail_cmd import main as mail_main

        return mail_main(args.to, args.all)
    if args.command == "dns":
        from .dns_cmd import main as dns_main

        return dns_main(args.action, args.name, args.value)
    from .bootstrap_cmd import main as bootstrap_main

    return bootstrap_main(args.org, args.admin_email, args.seats)


if __name__ == "__main__":
    sys.exit(main())
