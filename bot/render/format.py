"""Formatting helpers shared by every renderer: durations, times, escaping, mentions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")


def escape(text: str) -> str:
    """Escape Markdown so that user text is shown as typed."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def duration(ms: int) -> str:
    """``< 1m``, ``Nm``, ``Nh``, ``Nh Nm``, ``Nd``, ``Nd Nh Nm`` with zero parts omitted."""
    minutes = max(0, ms) // 60_000
    if minutes == 0:
        return "< 1m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p)


def timestamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def channel_link(channel_name: str) -> str:
    return f"~{channel_name}"


def quote(text: str, limit: int = 500) -> str:
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return "\n".join(f"> {line}" for line in cut.splitlines() or [""])
