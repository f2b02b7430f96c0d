"""``/incident test create-incident|bulk-data``: real, backdated incidents for trying warroom out.

System admins only, and only with ``WARROOM_TESTING_ENABLED=true``. ``bulk-data`` creates at
most :data:`MAX_PER_CALL` incidents per call; its checks run in the order of the spec: total 0
→ nothing to do, end ≤ begin → error, no usable playbook → error.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from bot.domain.models import IncidentStatus, Playbook
from bot.domain.testdata import MAX_PER_CALL, Planned, plan
from bot.render import dialogs, messages
from bot.render import review as render
from bot.services.container import Services

from .router import CommandRequest, CommandRouter, Reply

DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
COUNT = re.compile(r"^[0-9]{1,6}$")
SEED = re.compile(r"^-?[0-9]{1,18}$")
QUOTED = re.compile(r'^["“]([^"”]*)["”]\s*(.*)$', re.DOTALL)


class Refusal(Exception):
    """A test command refused with this text."""


def register(router: CommandRouter) -> None:
    router.add("test", test, help=messages.SUBCOMMAND_HELP["test"])


async def test(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    if not svc.settings.testing_enabled:
        return Reply(render.testing_disabled())
    if not await svc.directory.is_admin(req.user_id):
        return Reply(render.admins_only())
    sub = args[0].lower() if args else ""
    tail = rest[len(args[0]) :].strip() if args else ""
    try:
        if sub == "create-incident":
            return await _create_incident(svc, req, tail)
        if sub == "bulk-data":
            return await _bulk_data(svc, req, args[1:])
    except Refusal as exc:
        return Reply(f"{exc}\n{render.test_usage()}")
    return Reply(render.test_usage())


def day_ms(word: str) -> int:
    """Midnight UTC of ``YYYY-MM-DD`` in ms."""
    if not DATE.match(word):
        raise Refusal(render.bad_date(word))
    try:
        day = datetime.strptime(word, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise Refusal(render.bad_date(word)) from None
    return int(day.timestamp() * 1000)


def _past(word: str, now: int) -> int:
    at = day_ms(word)
    if at > now:
        raise Refusal(render.future_date(word))
    return at


def _playbook(word: str, playbooks: list[Playbook]) -> Playbook:
    for pb in playbooks:
        if word in (pb.id, pb.title) or word.lower() == pb.title.lower():
            return pb
    raise Refusal(render.unknown_playbook(word))


def _split_playbook(tail: str) -> tuple[str, str]:
    quoted = QUOTED.match(tail)
    if quoted:
        return quoted.group(1).strip(), quoted.group(2)
    head, _, after = tail.partition(" ")
    return head, after


async def _create_incident(svc: Services, req: CommandRequest, tail: str) -> Reply:
    playbook_word, after = _split_playbook(tail)
    date_word, _, name = after.strip().partition(" ")
    if not playbook_word or not date_word:
        raise Refusal(render.missing_name())
    created = _past(date_word, svc.clock.now_ms())
    name = name.strip()
    if not dialogs.NAME_MIN <= len(name) <= dialogs.NAME_MAX:
        raise Refusal(render.missing_name())
    playbook = _playbook(playbook_word, await svc.playbooks.usable(req.team_id, req.user_id))
    planned = [Planned(name, created, None, playbook)]
    await svc.testdata.create(
        reporter_id=req.user_id, team_id=req.team_id, channel_id=req.channel_id, planned=planned
    )
    return Reply(render.created_table([(name, created, _status(None))]))


def _count(word: str) -> int:
    if not COUNT.match(word) or int(word) > MAX_PER_CALL:
        raise Refusal(render.bad_count(word, MAX_PER_CALL))
    return int(word)


def _status(ended_at: int | None) -> str:
    return (IncidentStatus.ONGOING if ended_at is None else IncidentStatus.ENDED).value


async def _bulk_data(svc: Services, req: CommandRequest, args: list[str]) -> Reply:
    if not 4 <= len(args) <= 5:
        raise Refusal(render.bulk_arguments())
    ongoing, ended = _count(args[0]), _count(args[1])
    begin, end = day_ms(args[2]), day_ms(args[3])
    if len(args) == 5 and not SEED.match(args[4]):
        raise Refusal(render.bad_seed(args[4]))
    seed = int(args[4]) if len(args) == 5 else secrets.randbelow(1_000_000)
    if ongoing + ended > MAX_PER_CALL:
        raise Refusal(render.too_many(ongoing + ended, MAX_PER_CALL))
    # The spec's order: nothing to do, then the dates, then the playbooks.
    if ongoing + ended == 0:
        return Reply(render.nothing_to_do())
    if end <= begin:
        raise Refusal(render.end_before_begin())
    if end > svc.clock.now_ms():
        raise Refusal(render.future_date(args[3]))
    playbooks = await svc.playbooks.usable(req.team_id, req.user_id)
    if not playbooks:
        return Reply(render.no_usable_playbook())
    planned = plan(
        seed=seed, ongoing=ongoing, ended=ended, begin=begin, end=end, playbooks=playbooks
    )
    await svc.testdata.create(
        reporter_id=req.user_id, team_id=req.team_id, channel_id=req.channel_id, planned=planned
    )
    rows = [(p.name, p.created_at, _status(p.ended_at)) for p in planned]
    return Reply(render.created_table(rows, seed))
