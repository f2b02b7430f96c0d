"""How playbook names are read from the command line."""

import pytest

from bot.commands.playbooks import name_of, tokens
from bot.domain.models import Playbook
from bot.errors import InputError
from bot.services.playbook_rules import match


def test_tokens_keep_quoted_groups_whole() -> None:
    assert tokens('"Service outage" add @bob') == ["Service outage", "add", "@bob"]
    assert tokens("\u201cService outage\u201d remove @a @b") == [
        "Service outage",
        "remove",
        "@a",
        "@b",
    ]
    assert name_of("  Service   outage ") == "Service outage"
    with pytest.raises(InputError) as info:
        tokens('"Service outage')
    assert info.value.reason == "unbalanced_quote"
    with pytest.raises(InputError):
        name_of("")


def _pb(title: str, pid: str) -> Playbook:
    return Playbook(id=pid, title=title, team_id="t")


def test_match_prefers_id_then_exact_title_then_unique_prefix() -> None:
    books = [_pb("Outage", "1"), _pb("Outage v2", "2"), _pb("Security", "3")]
    assert [p.id for p in match(books, "outage")] == ["1"]
    assert [p.id for p in match(books, "2")] == ["2"]
    assert [p.id for p in match(books, "out")] == ["1", "2"]
    assert [p.id for p in match(books, "SEC")] == ["3"]
    assert match(books, "nope") == [] and match(books, "  ") == []
