"""Where the CLI keeps the stored login (the config folder) and resumable jobs (the state folder), mode 0600."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "orgmembers"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "orgmembers"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), atomically: a crash leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def load_logins() -> dict[str, Any]:
    path = credentials_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"default_url": None, "logins": {}}
    return (
        data if isinstance(data, dict) and isinstance(data.get("logins"), dict) else {"default_url": None, "logins": {}}
    )


def store_login(url: str, api_key: str, email: str, key_id: str) -> Path:
    data = load_logins()
    data["default_url"] = url
    data["logins"][url] = {"api_key": api_key, "email": email, "key_id": key_id}
    write_private(credentials_path(), json.dumps(data, indent=2) + "\n")
    return credentials_path()


def forget_login(url: str) -> bool:
    data = load_logins()
    if data["logins"].pop(url, None) is None:
        return False
    if data.get("default_url") == url:
        data["default_url"] = next(iter(data["logins"]), None)
    write_private(credentials_path(), json.dumps(data, indent=2) + "\n")
    return True
