"""The rule: every playbook that validates renders its checklist within Mattermost's limits.

Random playbooks at the limits of validation (titles, commands and descriptions of their
longest, in the characters that grow most on their way into a post: escaped in names,
defused as mentions, six runes in Go's JSON), every stage active in turn, tasks in every
state with the longest usernames Mattermost allows, signed by the real signer behind the
longest public URL warroom accepts: each checklist post must pass the double's
``Post.IsValid`` (5.36 model/post.go), and together the posts must show every task once,
in order.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import Clock
from bot.domain import transitions
from bot.domain.limits import STAGE_TITLE, TASK_COMMAND, TASK_DESCRIPTION, TASK_TITLE
from bot.domain.models import Incident, Playbook, Stage, TaskState
from bot.domain.signing import Signer
from bot.interactions.buttons import Buttons
from bot.render import checklist, post_size
from bot.render.keys import keyed
from bot.render.views import Names
from bot.services.checklist_posts import checklist_key
from bot.services.playbook_file import StageSpec, stage_templates
from bot.settings import PUBLIC_URL_MAX
from tests.double.payloads import go_json_runes, normalise_props
from tests.double.posts import MAX_MESSAGE_RUNES, MAX_PROPS_RUNES

# Characters that cost the most: backslash-escaped in names, a word joiner after an @ (mentions
# defused), six runes in Go's JSON (\u003c), two for a quote or a backslash.
COSTLY = '@<>&\\`*_[]()#|~"\u2028\bé🔥 a'
USERNAME_MAX = 64  # 5.36 model/user.go USER_NAME_MAX_LENGTH
ACTION_URL = "https://" + "w" * (PUBLIC_URL_MAX - len("https://")) + "/mattermost/action"


class FixedClock:
    def now_ms(self) -> int:
        return 1_800_000_000_000


def text(max_size: int) -> st.SearchStrategy[str]:
    """Any text up to ``max_size``, often exactly that long and made of costly characters."""
    longest = st.sampled_from(COSTLY).map(lambda ch: (ch * max_size)[:max_size].strip() or "x")
    mixed = st.text(st.sampled_from(COSTLY), min_size=1, max_size=max_size).map(
        lambda t: t.strip() or "x"
    )
    return st.one_of(longest, mixed)


task_spec = st.fixed_dictionaries(
    {"title": text(TASK_TITLE.most)},
    optional={
        "description": text(TASK_DESCRIPTION.most),
        "command": text(TASK_COMMAND.most - 1).map(lambda t: "/" + t.replace("\n", " ")),
    },
)
stage_spec = st.fixed_dictionaries(
    {"title": text(STAGE_TITLE.most), "tasks": st.lists(task_spec, min_size=0, max_size=40)}
)


def incident_from(stages: list[dict[str, Any]], active: int, seed: int) -> tuple[Incident, Names]:
    specs = [StageSpec.model_validate(s) for s in stages]  # what playbooks.yaml accepts
    playbook = Playbook(id="p" * 26, title="P", team_id="t" * 26, stages=stage_templates(specs))
    incident, _ = transitions.new_incident(
        incident_id="i" * 26,
        playbook=playbook,
        team_id="t" * 26,
        channel_id="c" * 26,
        channel_name="x",
        name="x",
        description="",
        reporter_id="r" * 26,
        now=0,
    )
    rng = random.Random(seed)
    users = {f"{n:026d}": chr(ord("a") + n) * USERNAME_MAX for n in range(3)}
    stages_now = tuple(
        Stage(
            title=s.title,
            tasks=tuple(
                t.model_copy(
                    update={
                        "state": rng.choice(list(TaskState)),
                        "assignee_id": rng.choice(["", *users]),
                        "last_run_at": rng.choice([None, 1_799_999_999_999]),
                    }
                )
                for t in s.tasks
            ),
        )
        for s in incident.stages
    )
    return incident.model_copy(update={"stages": stages_now, "active_stage": active}), Names(users)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(stages=st.lists(stage_spec, min_size=1, max_size=3), data=st.data())
def test_every_playbook_that_validates_renders_within_mattermosts_limits(
    stages: list[dict[str, Any]], data: st.DataObject
) -> None:
    active = data.draw(st.integers(0, len(stages) - 1))
    incident, names = incident_from(stages, active, data.draw(st.integers(0, 2**16)))
    clock: Clock = FixedClock()
    buttons = Buttons(Signer(b"k" * 32), ACTION_URL, clock)
    posts = checklist.checklist_posts(incident, names, buttons)
    for index, (message, props) in enumerate(posts):
        sent = keyed(props, checklist_key(incident.id, index))  # as posted: with its key
        stored = normalise_props(sent, lambda: "x" * 26) | {"from_bot": "true"}
        assert go_json_runes(stored) <= MAX_PROPS_RUNES
        assert len(message) <= MAX_MESSAGE_RUNES
        assert post_size.props_runes(sent) == go_json_runes(stored)  # warroom measures alike
    shown = [a["fallback"] for _, props in posts for a in props["attachments"]]
    tasks = incident.stages[active].tasks
    assert shown[1:-1] == [f"{n}. {t.title}" for n, t in enumerate(tasks, start=1)]


def test_the_other_ways_to_write_a_task_stay_within_the_limits_tested_above() -> None:
    """The task dialog accepts nothing longer than the one limit every path checks."""
    assert TASK_TITLE.most == checklist.TITLE_MAX
    assert TASK_COMMAND.most == checklist.COMMAND_MAX
    assert TASK_DESCRIPTION.most == checklist.DESCRIPTION_MAX
