"""An embedded DNS responder for the local stack and the tests: TXT records from a file or memory.

A small UDP server (dnspython parses and builds the messages) on 127.0.0.1
that answers TXT queries authoritatively from a record set: a JSON file
(``.local/dns.json``: ``{"<name>": ["<text>", ...]}``, re-read when it
changes) or an in-memory dict. Any other name answers NXDOMAIN, any other
type an empty answer. The service's ``DNS_RESOLVER`` setting points at it, so
domain verification runs a real DNS query without the network.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TTL = 60


def _key(name: str) -> str:
    return name.strip().rstrip(".").lower()


class RecordStore:
    """TXT records by name; file-backed when ``path`` is given (the file is the truth)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._records: dict[str, list[str]] = {}
        self._stamp: float | None = None

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._records, self._stamp = {}, None
            return
        if stamp == self._stamp:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except ValueError:
            raw = {}
        records: dict[str, list[str]] = {}
        if isinstance(raw, dict):
            for name, values in raw.items():
                texts = [values] if isinstance(values, str) else values
                if isinstance(texts, list):
                    records[_key(str(name))] = [str(v) for v in texts]
        self._records, self._stamp = records, stamp

    def txt(self, name: str) -> list[str] | None:
        """The TXT texts at ``name``; None when the name has no record at all."""
        with self._lock:
            self._load()
            return list(self._records[_key(name)]) if _key(name) in self._records else None

    def set(self, name: str, value: str, *, replace: bool = False) -> None:
        """Add a text to ``name`` (``replace``: make it the only one)."""
        with self._lock:
            self._load()
            texts = [] if replace else self._records.get(_key(name), [])
            if value not in texts:
                texts = [*texts, value]
            self._records[_key(name)] = texts
            self._save()

    def remove(self, name: str) -> None:
        with self._lock:
            self._load()
            self._records.pop(_key(name), None)
            self._save()

    def all(self) -> dict[str, list[str]]:
        with self._lock:
            self._load()
            return {k: list(v) for k, v in self._records.items()}

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(self._records, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temp, self.path)
        self._stamp = self.path.stat().st_mtime_ns


def answer(store: RecordStore, wire: bytes) -> bytes | None:
    """The reply to one query message (None for what is not a parseable query)."""
    try:
        query = dns.message.from_wire(wire)
    except Exception:
        return None
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response.to_wire()
    question = query.question[0]
    texts = store.txt(question.name.to_text())
    if texts is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
    elif question.rdtype == dns.rdatatype.TXT and texts:
        quoted = ['"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in texts]
        response.answer.append(dns.rrset.from_text(question.name, TTL, dns.rdataclass.IN, dns.rdatatype.TXT, *quoted))
    return response.to_wire()


class DnsResponder:
    """The UDP server: ``start()`` binds (port 0: a free one) and serves on a daemon thread."""

    def __init__(self, store: RecordStore, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = store
        self.host = host
        self.requested_port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        assert self._sock is not None, "not started"
        return int(self._sock.getsockname()[1])

    @property
    def address(self) -> str:
        """The value for the ``DNS_RESOLVER`` setting."""
        return f"{self.host}:{self.port}"

    def start(self) -> DnsResponder:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, self.requested_port))
        sock.settimeout(0.2)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="dns-responder", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stopping.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            reply = answer(self.store, wire)
            if reply is not None:
                try:
                    sock.sendto(reply, peer)
                except OSError:
                    continue

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
