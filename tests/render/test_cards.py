"""The summary card fits a Mattermost post whatever the description and the last update say."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.models import Incident
from bot.domain.signing import Signer
from bot.interactions.buttons import Buttons
from bot.render import cards
from bot.render.dialogs import DESCRIPTION_MAX, NAME_MAX
from bot.render.keys import keyed
from bot.render.status import MESSAGE_MAX
from bot.render.views import Names
from bot.settings import PUBLIC_URL_MAX
from tests.double.payloads import go_json_runes, normalise_props
from tests.double.posts import MAX_PROPS_RUNES

A = "a" * 26
COSTLY = '@<>&\\`*_[]()#|~"é a'
URL = "https://" + "w" * (PUBLIC_URL_MAX - len("https://")) + "/mattermost/action"


class FixedClock:
    def now_ms(self) -> int:
        return 1_800_000_000_000


def card(description: str, update: str) -> dict[str, object]:
    incident = Incident(
        id="i" * 26,
        team_id="t" * 26,
        channel_id="c" * 26,
        channel_name="x",
        name="<" * NAME_MAX,
        description=description,
        reporter_id=A,
        commander_id=A,
        created_at=0,
        severity="SEV1",
    )
    buttons = Buttons(Signer(b"k" * 32), URL, FixedClock())
    _, props = cards.summary_card(incident, Names({A: "u" * 64}), buttons, 0, update)
    attachment: dict[str, object] = props["attachments"][0]
    sent = keyed(props, f"card:{incident.id}")  # as posted: with its key
    assert (
        go_json_runes(normalise_props(sent, lambda: "x") | {"from_bot": "true"}) <= MAX_PROPS_RUNES
    )
    return attachment


def text(max_size: int) -> st.SearchStrategy[str]:
    """Any text up to ``max_size``, often exactly that long in one costly character."""
    longest = st.sampled_from(COSTLY).map(lambda ch: ch * max_size)
    return st.one_of(longest, st.text(st.sampled_from(COSTLY), max_size=max_size))


@settings(max_examples=40, deadline=None)
@given(description=text(DESCRIPTION_MAX), update=text(MESSAGE_MAX))
def test_the_card_fits_a_post_whatever_its_texts(description: str, update: str) -> None:
    card(description, update)


def test_the_longest_texts_are_cut_and_ordinary_ones_kept() -> None:
    worst = card("<" * DESCRIPTION_MAX, "&" * MESSAGE_MAX)
    fields = worst["fields"]
    assert isinstance(fields, list) and fields[-1]["value"].endswith("…")
    plain = card("Checkout fails in eu-west", "**Impact:** checkout down")
    assert plain["text"] == "Checkout fails in eu-west"
    assert (
        isinstance(plain["fields"], list)
        and plain["fields"][-1]["value"] == "**Impact:** checkout down"
    )
