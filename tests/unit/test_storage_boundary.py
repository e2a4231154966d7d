"""Only storage modules touch pynamodb: the rooms above it (services, SCIM, HTTP, console, events) import
neither pynamodb nor a table's model, so every read and write goes through a repository's functions."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"
ABOVE_STORAGE = ["services", "scim", "http", "console", "events"]


def imports_of(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every import in the file, relative modules spelled as written."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [(module, alias.name) for alias in node.names]
    return found


def offending(path: Path) -> list[str]:
    bad = []
    for module, name in imports_of(path):
        if module.split(".")[0] == "pynamodb" or module.lstrip(".").startswith("pynamodb"):
            bad.append(f"{module} {name}".strip())
        elif "storage" in module and name.endswith("Model"):
            bad.append(f"{module}.{name}")
    return bad


@pytest.mark.parametrize("room", ABOVE_STORAGE)
def test_no_room_above_storage_imports_pynamodb_or_a_model(room: str) -> None:
    files = sorted((PACKAGE / room).rglob("*.py"))
    assert files, f"no modules found in chalicelib/{room}"
    found = {str(f.relative_to(PACKAGE)): bad for f in files if (bad := offending(f))}
    assert found == {}


def test_the_check_sees_a_model_import_when_there_is_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from pynamodb.exceptions import DoesNotExist\nfrom ..storage.members import MemberModel, member_of\n"
    )
    assert offending(sample) == ["pynamodb.exceptions DoesNotExist", "..storage.members.MemberModel"]
