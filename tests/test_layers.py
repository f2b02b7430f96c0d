"""Stores behind ports: SQL and SQLite stay in ``bot/store/``; only ``bot/app.py`` builds them.

Rule (issue 12): services and the scheduler declare what they need from storage as
Protocols in ``bot/services/ports.py``; they import neither ``sqlite3`` nor ``aiosqlite`` nor
any ``bot.store`` module. The modules below still import concrete stores and open
transactions themselves: they are the remaining work, listed with exactly what they import,
so the list can only shrink (a new import, or a module not listed, fails; so does an entry
that is no longer needed, to keep the list honest).
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
FORBIDDEN_ALWAYS = ("sqlite3", "aiosqlite")

STILL_IMPORTING_STORES: dict[str, set[str]] = {}


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_services_and_the_scheduler_import_no_store_and_no_sqlite() -> None:
    found: dict[str, set[str]] = {}
    for layer in ("services", "scheduler"):
        for path in sorted((BOT / layer).rglob("*.py")):
            names = imported(path)
            relative = str(path.relative_to(BOT))
            sqlite = {n for n in names if n.split(".")[0] in FORBIDDEN_ALWAYS}
            assert not sqlite, f"bot/{relative} imports {sqlite}: SQLite belongs in bot/store/"
            stores = {n for n in names if n == "bot.store" or n.startswith("bot.store.")}
            if stores:
                found[relative] = stores
    assert found == STILL_IMPORTING_STORES
