import pytest

from bot.render.format import (
    cell,
    code,
    code_block,
    defuse_channel_mentions,
    duration,
    markdown,
    markdown_line,
    name,
    quote,
)
from tests.double.posts import channel_mention_names
from tests.double.texts import Member, find_mentions
from tests.scenarios.harness import as_read

MIN = 60_000


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "< 1m"),
        (59_999, "< 1m"),
        (MIN, "1m"),
        (60 * MIN, "1h"),
        (61 * MIN, "1h 1m"),
        (24 * 60 * MIN, "1d"),
        ((24 * 60 + 1) * MIN, "1d 1m"),
        ((2 * 24 * 60 + 3 * 60 + 4) * MIN, "2d 3h 4m"),
        (-5, "< 1m"),
    ],
)
def test_duration_text(ms: int, text: str) -> None:
    assert duration(ms) == text


# ---- Kind 3: one text pipeline --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "See https://wiki.example/ops/db_fail_over_v2",
        "**Impact:** ~12% of checkouts fail",
        "Read [the runbook](https://wiki.example/run_book) first",
        "Edit `playbooks.yaml` and reload",
        "multi\nline _status_",
    ],
)
def test_rule_person_markdown_is_shown_as_written_links_work(text: str) -> None:
    """What a person wrote as markdown is passed on as markdown: nothing escaped."""
    assert markdown(text) == text
    assert markdown_line(text) == text.replace("\n", " ")
    assert quote(text) == "\n".join(f"> {line}" for line in text.splitlines())


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("DB outage", "DB outage"),
        ("db_fail_over_v2", "db_fail_over_v2"),
        ("_private_ *bold* `x` [a](b) ~~s~~", r"\_private\_ \*bold\* \`x\` \[a\](b) \~\~s\~\~"),
        ("C:\\temp", "C:\\\\temp"),
        ("two\nlines", "two lines"),
        ("Outage #", "Outage \\#"),
        ("Q1 #1 (east) 50% <beta> & more!", "Q1 #1 (east) 50% <beta> & more!"),
    ],
)
def test_rule_names_inside_warroom_markup_escape_only_what_would_break_it(
    text: str, shown: str
) -> None:
    """A name inside **…**, _…_, a heading or a link label: only markup characters escaped."""
    assert name(text) == shown


def test_rule_table_cells_also_escape_the_cell_separator() -> None:
    assert cell("a|b *c*") == r"a\|b \*c\*"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("playbooks.yaml", "`playbooks.yaml`"),
        ("a`b", "``a`b``"),
        ("``x", "``` ``x ```"),
        ("a\nb", "`a b`"),
        ("", "` `"),
    ],
)
def test_rule_code_spans_show_any_text_exactly(text: str, span: str) -> None:
    """The fence is longer than any backtick run inside; no backslashes ever."""
    assert code(text) == span


def test_rule_code_blocks_cannot_be_closed_by_their_text() -> None:
    assert code_block("a\n```\nb", "yaml") == "````yaml\na\n```\nb\n````"


# ---- Kind 2: no mentions outside their place ------------------------------------------------

_MEMBERS = [Member("u1", "bob", online=True), Member("u2", "alice.k", online=True)]
_WORDS = ["@channel", "@all", "@here", "@bob", "@alice.k", "@CHANNEL", "@Bob"]
_BEFORE = ["", " ", "(", ".", "-", "_", ":", "a.", "x-", "*", "**", "[", "\\", ">", "~", "'"]
_BEFORE += ["`a` ", "`a`", "[l](u) ", "[https://x.example/", "see https://my_host/", "xhttp://a/"]
_BEFORE += ["&amp;", "\n", "> ", "- ", "```\nx\n```\n", "[l](https://x.example/) "]
_BEFORE += [
    "www.x.example/",
    "www.x.example/ ",
    "xwww.x.example/",
    "[www.x.example/",
    "www.my_host/",
    "www.x<",
]
_AFTER = ["", " db down", ".", ":", "!", "_", "-", ")", "**", "'s"]


def _notified(text: str) -> tuple[set[str], bool]:
    found = find_mentions(
        text, {}, members=_MEMBERS, sender_id="sender", allow_channel_mentions=True
    )
    return found.user_ids, found.here or found.channel or found.all


def test_rule_copied_text_notifies_nobody() -> None:
    """Every helper that places a person's text defuses @channel, @all, @here and @someone.

    Checked against the double's copy of the server's mention finder (app/notification.go,
    processText over shared/markdown), on every word with the characters that the server
    trims or splits at around it. Without defusing the same texts do notify (the control).
    """
    for word in _WORDS:
        for before in _BEFORE:
            for after in _AFTER:
                text = before + word + after
                for helper in (markdown, markdown_line, name, cell, quote):
                    assert _notified(helper(text)) == (set(), False), (helper, text)
                assert as_read(markdown(text)) == text
    for reference in ("&#64;channel", "&#x40;here", "&commat;all", "&#064;bob"):
        assert _notified(reference)[0], reference
        assert _notified(markdown(reference)) == (set(), False), reference
    assert _notified("@channel db down") == ({"u1", "u2"}, True)
    assert _notified("(@bob)") == ({"u1"}, False)


def test_rule_email_addresses_are_left_alone() -> None:
    assert markdown("mail ops@example.com") == "mail ops@example.com"
    assert _notified("ops@bob") == (set(), False)


@pytest.mark.parametrize(
    "text",
    [
        "read https://medium.com/@ops/post-mortem today",
        "read www.medium.com/@ops/post-mortem today",
        "**www.medium.com/@here**",
        "[the post](https://medium.com/@ops/post-mortem)",
        "run `ssh @channel` or\n```\n@here\n```",
    ],
)
def test_rule_what_the_server_never_reads_for_mentions_is_left_untouched(text: str) -> None:
    """URLs, link targets and code are not read for mentions: a word joiner would break them."""
    assert markdown(text) == text
    assert _notified(text) == (set(), False)


@pytest.mark.parametrize("before", ["\u0870", "\u08b5", "é", "\u0663"])
def test_rule_an_at_after_anything_but_an_ascii_letter_or_digit_is_defused(before: str) -> None:
    """Whether a character is a letter depends on the Unicode tables of whoever reads it: the
    5.36 server is built with Go 1.15 (Unicode 13), warroom runs on a newer Python. A letter
    new since Unicode 13 (U+0870, Arabic, Unicode 14) is a word break for the server, so
    ``\u0870@channel`` notifies the channel there although Python sees a word. Only an ASCII
    letter or digit before an "@" keeps it out of a mention on every version; every other
    "@" gets the (invisible) word joiner."""
    for helper in (markdown, markdown_line, name, quote):
        out = helper(before + "@channel")
        assert "@\u2060channel" in out, (helper, before)
        assert as_read(out).endswith(before + "@channel")


@pytest.mark.parametrize(
    "text",
    [
        "~town-square",
        "see ~ops, (~db_1) and \\~sre-2",
        name("Coordinate in ~ops ~dev"),
        "~~strike~~ ~a~b ~-x ~_y",
    ],
)
def test_defused_channel_mentions_add_no_props_and_read_as_written(text: str) -> None:
    """Rule: a message warroom plans next to the props limit carries no ``~name`` the server
    reads as a channel mention (each would add ``props.channel_mentions``), yet reads as
    written."""
    assert channel_mention_names(text)  # the server would read at least one
    defused = defuse_channel_mentions(text)
    assert channel_mention_names(defused) == []
    assert defused.replace("\u2060", "") == text
    assert defuse_channel_mentions(defused) == defused
    assert defuse_channel_mentions("ops~db and a~b") == "ops~db and a~b"
