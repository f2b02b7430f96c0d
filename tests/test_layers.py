"""Stores behind ports: SQL and SQLite stay in ``bot/store/``; only ``bot/app.py`` builds them.

Rules (issue 12): services and the scheduler declare what they need from storage as
Protocols in ``bot/services/ports.py``; only the composition roots import a ``bot.store``
module (they build the stores and hand them over); no module outside
``bot/store/`` names ``sqlite3`` or ``aiosqlite``; and the store raises toward the services
only errors the ports (or ``bot/errors.py``) declare, so no service catches a store-specific
exception.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
DRIVERS = ("sqlite3", "aiosqlite")
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(TABLE|INDEX)|PRAGMA|BEGIN\b|COMMIT\b|ROLLBACK\b)",
    re.IGNORECASE | re.DOTALL,
)


def imported(tree: ast.AST) -> set[str]:
    """Every module ``tree`` imports (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def parsed(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def relative(path: Path) -> str:
    return f"bot/{path.relative_to(BOT)}"


# The composition roots: the app, and `warroom setup` (the CLI that opens the database to
# store what it installed).
BUILDERS = ("app.py", "setup.py")


def test_only_the_composition_roots_import_a_store() -> None:
    """Services and the scheduler above all, but also commands, interactions, transport and
    render: they are handed what they need, typed with the Protocols of the ports."""
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        if path.is_relative_to(BOT / "store") or str(path.relative_to(BOT)) in BUILDERS:
            continue
        names = imported(parsed(path))
        stores = {n for n in names if n == "bot.store" or n.startswith("bot.store.")}
        if stores:
            found[relative(path)] = stores
    assert not found, f"import stores (declare a Protocol in bot/services/ports.py): {found}"


def test_only_the_store_names_the_database_driver() -> None:
    """Imported or named (``sqlite3.Error`` in an ``except``): outside bot/store/ neither."""
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        if path.is_relative_to(BOT / "store"):
            continue
        tree = parsed(path)
        names = {n.split(".")[0] for n in imported(tree)}
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        drivers = names & set(DRIVERS)
        if drivers:
            found[relative(path)] = drivers
    assert not found, f"SQLite belongs in bot/store/: {found}"


def test_the_store_declares_no_exception_of_its_own() -> None:
    """What a store raises toward a service is declared by the ports (``StaleIncident``,
    ``NameTaken``, ``StoreUnavailable``) or by ``bot/errors.py``: a driver error is mapped
    where it is raised, so a second store implementation raises the same ones and services
    catch nothing store-specific."""
    found = []
    for path in sorted((BOT / "store").rglob("*.py")):
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(base) for base in node.bases]
                if any(b.endswith(("Error", "Exception", "Warning")) for b in bases):
                    found.append(f"{relative(path)}: {node.name}({', '.join(bases)})")
    assert not found, f"declare these in bot/services/ports.py or bot/errors.py: {found}"


def test_sql_is_written_only_in_the_store() -> None:
    """No string outside bot/store/ reads as an SQL statement."""
    found = []
    for path in sorted(BOT.rglob("*.py")):
        if path.is_relative_to(BOT / "store"):
            continue
        for node in ast.walk(parsed(path)):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if SQL.match(node.value):
                found.append(f"{relative(path)}:{node.lineno}: {node.value[:40]!r}")
    assert not found, f"SQL belongs in bot/store/: {found}"


# What each inner layer may not import: dependencies point inward (transport → commands /
# interactions → services → domain); the adapters (store, transport, scheduler) and the
# composition root are imported only by what is outside them.
OUTWARD: dict[str, tuple[str, ...]] = {
    "domain": (
        "bot.services",
        "bot.commands",
        "bot.interactions",
        "bot.transport",
        "bot.scheduler",
        "bot.store",
        "bot.render",
        "bot.app",
    ),
    "services": (
        "bot.commands",
        "bot.interactions",
        "bot.transport",
        "bot.scheduler",
        "bot.store",
        "bot.app",
    ),
    "commands": ("bot.transport", "bot.scheduler", "bot.store", "bot.app"),
    "interactions": ("bot.transport", "bot.scheduler", "bot.store", "bot.app"),
}


def test_dependencies_point_inward() -> None:
    """Rule (brief: layout): the domain imports no other layer; services import neither the
    layers that call them (commands, interactions, transport) nor an adapter (store,
    scheduler); commands and interactions import no adapter. What a service needs from an
    outer part is a Protocol in bot/services/ports.py (chat events are bot/services/events.py)."""
    found: dict[str, set[str]] = {}
    for layer, forbidden in OUTWARD.items():
        for path in sorted((BOT / layer).rglob("*.py")):
            names = imported(parsed(path))
            bad = {n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)}
            if bad:
                found[relative(path)] = bad
    assert not found, f"imports pointing outward: {found}"
