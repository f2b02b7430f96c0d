"""Commands by chat: a direct message to warroom, or ``@warroom <command>`` in a channel.

One parser, one dispatcher, two transports: the message becomes a :class:`CommandRequest`
(``via="dm"``/``"mention"``, no trigger id) and runs through
:func:`bot.commands.dispatch.run_command` with the very handlers and permission checks of
``/incident``. Adding a subcommand adds it here too.

Which team? A mention belongs to its channel's team. A direct message has no team
(Mattermost's DM channels have ``team_id: ""``): warroom uses the one team both the person
and the bot belong to; when they share several, the message names one at the end
(``list in acme``), else warroom asks which; when they share none it says so.

Where the answer goes: in a DM, in the DM (in the message's thread if it was written in
one). For a mention, to the asker alone, like a slash command's ephemeral reply (an
ephemeral post where the bot may post them, else a DM, see :class:`Notifier`), except the
summary of the channel's own incident (``@warroom status``/``info``), which goes in the
mention's thread: everyone in the channel may read it, and usually wants to. A command whose effect shows
by itself (a restart, a new commander) gets a :data:`ACK_EMOJI` reaction instead of text.
A dialog cannot open without a trigger id: the answer is a button (bound to the asker, for
an hour) that runs the command again from the click, whose trigger id opens it.

Safety, in order: posts by bots, webhooks and the system never get here (see
:func:`bot.transport.conversation.addressed`); a sender whose account is a bot is ignored;
a channel message that has warroom in ``mentions`` without naming it (``@here``,
``@channel``, ``@all``, a mention key) is not for it and costs nothing; a message already handled (by post id, stored) is not run again; a person sending faster
than :class:`bot.domain.ratelimit.RateLimiter` allows is told once, then ignored until the
bucket refills. Edits (``post_edited``) are never read, so editing never re-runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from bot.domain.limits import COMMAND_TEXT
from bot.domain.ratelimit import MissStreak, RateLimiter, Verdict
from bot.domain.signing import Claims
from bot.errors import NotFound
from bot.interactions.router import ActionRequest, ActionResponse, InteractionRouter
from bot.log import get_logger
from bot.render import conversation as texts
from bot.render.limits import too_long
from bot.services.container import Services
from bot.services.ports import ChatMemory, ChatRefused, Post, Team

from .dispatch import run_command
from .language import dm_text, mention_text, team_suffix
from .router import MAX_TEXT, CommandRequest, CommandRouter, Reply, split

log = get_logger(__name__)

RERUN_ACTION = "rerun"
RERUN_TTL_MS = 60 * 60 * 1000
RERUN_MAX_TEXT = 1000  # the command rides in the button's signed context (props <= 8000)
TEAMS_TTL_MS = 60_000
CATCH_UP_MS = 10 * 60 * 1000  # after a gap, DMs younger than this are still answered
DM_MEMORY_MS = 7 * 24 * 3600 * 1000  # direct channels re-read after a gap: used this week
CATCH_UP_PAGE = 30
# Mentions answered in their thread (what everyone in the channel may want to read: the
# summary of the channel's own incident); every other answer goes to the asker alone.
THREAD_ANSWERS = frozenset({"info", "status"})


@dataclass(frozen=True)
class ChatMessage:
    """A new message for warroom, taken off a ``posted`` event by the transport."""

    via: Literal["dm", "mention"]
    post_id: str
    root_id: str
    channel_id: str
    channel_name: str
    team_id: str  # "" in a direct or group message
    user_id: str
    message: str


def from_person(post: Post, bot_user_id: str) -> bool:
    """A new message a person wrote: not warroom's, a bot's, a webhook's or the system's.

    Mattermost marks bot posts ``props.from_bot == "true"`` and webhook/slash-reply posts
    ``props.from_webhook == "true"``; system posts have a ``system_*`` type.
    """
    props = post.props
    return not (
        post.user_id == bot_user_id
        or post.type  # system_* posts (joins, header changes …) and plugin post types
        or props.get("from_bot") == "true"
        or props.get("from_webhook") == "true"
        or post.edit_at
        or post.delete_at
    )


class _NoTeam(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Conversation:
    """Runs chat messages as commands; see the module docstring for the rules."""

    def __init__(
        self,
        svc: Services,
        router: CommandRouter,
        *,
        bot_username: str,
        store: ChatMemory,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._svc = svc
        self._router = router
        self.bot_username = bot_username
        self._store = store
        self.limiter = limiter or RateLimiter()
        self.misses = MissStreak()
        self._teams: tuple[int, list[Team]] = (-TEAMS_TTL_MS, [])
        self.last_latency_ms = 0.0

    async def on_message(self, msg: ChatMessage) -> None:
        """Answer ``msg`` once, unless a safety rule says not to answer at all."""
        started = time.perf_counter()
        svc = self._svc
        sender = await svc.directory.user(msg.user_id)
        if sender.is_bot or sender.delete_at:
            log.info("chat_ignored_bot", user_id=msg.user_id, post_id=msg.post_id)
            return
        name = await self._own_name()
        text = dm_text(msg.message, name) if msg.via == "dm" else mention_text(msg.message, name)
        if text is None:  # in `mentions` by @here/@channel/@all or a keyword: not spoken to
            return
        now = svc.clock.now_ms()
        if not await self._store.claim_message(msg.post_id, now=now):
            log.info("chat_duplicate", post_id=msg.post_id)
            return
        if msg.via == "dm":
            await self._store.remember_dm(msg.channel_id, now=now)
        sub = split(text)[0]
        missed = not sub or self._router.get(sub) is None
        miss = self.misses.miss(msg.user_id, now) if missed else None
        if miss is Verdict.QUIET:  # no command, again: stay quiet, or we might loop
            log.info("chat_quiet_no_command", user_id=msg.user_id, post_id=msg.post_id)
            return
        if not missed:
            self.misses.hit(msg.user_id)
        verdict = self.limiter.take(msg.user_id, now)
        if verdict is Verdict.QUIET:
            log.info("chat_rate_limited", user_id=msg.user_id, told=False)
            return
        if verdict is Verdict.TELL:
            log.info("chat_rate_limited", user_id=msg.user_id, told=True)
            await self._answer(msg, Reply(texts.slow_down(self.limiter.wait_s(msg.user_id))))
            return
        if not text.strip():  # a bare mention; a DM holding only a file or punctuation
            empty = (
                texts.empty_mention(name)
                if msg.via == "mention"
                else texts.not_a_command("", None, chat=True)
            )
            await self._answer(msg, _last_pointer(Reply(empty), miss))
            return
        if len(text) > MAX_TEXT:  # the same limit as the slash command's text
            await self._answer(msg, Reply(too_long(COMMAND_TEXT, len(text))))
            return
        try:
            req = await self._request(msg, text, needs_team=not missed)
        except _NoTeam as exc:
            await self._answer(msg, _last_pointer(Reply(exc.text), miss))
            return
        reply = await run_command(svc, self._router, req)
        await self._answer(msg, _last_pointer(self._for_chat(req, reply, name), miss))
        self.last_latency_ms = (time.perf_counter() - started) * 1000
        log.info("chat_answered", via=msg.via, post_id=msg.post_id, ms=round(self.last_latency_ms))

    async def catch_up(self) -> None:
        """After a (re)connect: answer the direct messages written while the stream was
        down (5.36 replays nothing, see ``ws_resume_after_disconnect``), if they are at
        most :data:`CATCH_UP_MS` old; every message runs once however often it is read."""
        svc = self._svc
        now = svc.clock.now_ms()
        for channel_id in await self._store.recent_dms(since=now - DM_MEMORY_MS):
            try:
                page = await svc.chat.channel_posts(channel_id, page=0, per_page=CATCH_UP_PAGE)
            except ChatRefused:
                log.warning("chat_catch_up_unreadable", channel_id=channel_id)
                continue
            posts = sorted(
                (page.posts[i] for i in page.order if i in page.posts), key=lambda p: p.create_at
            )
            for post in posts:
                if post.create_at < now - CATCH_UP_MS or not from_person(post, svc.bot_user_id):
                    continue
                message = ChatMessage(
                    via="dm", post_id=post.id, root_id=post.root_id, channel_id=channel_id,
                    channel_name="", team_id="", user_id=post.user_id, message=post.message,
                )  # fmt: skip
                try:
                    await self.on_message(message)
                except Exception:  # one message must not stop the others
                    log.exception("chat_catch_up_failed", post_id=post.id)

    async def _own_name(self) -> str:
        """warroom's username as the server has it now: an admin may rename the bot, and
        Mattermost then mentions it by the new name only (``user_updated`` keeps the
        directory current); the name read at start if the server cannot say."""
        try:
            return (await self._svc.directory.user(self._svc.bot_user_id)).username
        except (NotFound, ChatRefused):
            return self.bot_username

    # ---- the request ------------------------------------------------------------------
    async def _request(self, msg: ChatMessage, text: str, *, needs_team: bool) -> CommandRequest:
        team = await self._team(msg, text, needs_team=needs_team)
        if not msg.team_id:  # a DM may name its team at the end: `list in acme`
            stripped, named = team_suffix(text)
            if named == team.name.lower():
                text = stripped
        return CommandRequest(
            team_id=team.id,
            team_domain=team.name,
            channel_id=msg.channel_id,
            channel_name=msg.channel_name,
            user_id=msg.user_id,
            command="/incident",
            text=text,
            via=msg.via,
            post_id=msg.post_id,
            root_id=msg.root_id,
        )

    async def _team(self, msg: ChatMessage, text: str, *, needs_team: bool) -> Team:
        """The team ``msg`` acts in; raises :class:`_NoTeam` with the question to ask.
        ``needs_team=False`` (no command, only the pointer to answer): any shared team."""
        teams = await self._bot_teams()
        if msg.team_id:
            for team in teams:
                if team.id == msg.team_id:
                    return team
            return await self._svc.chat.get_team(msg.team_id)
        chat = self._svc.chat
        shared = [t for t in teams if await chat.is_team_member(t.id, msg.user_id)]
        _, named = team_suffix(text)
        if named:
            for team in shared:
                if team.name.lower() == named:
                    return team
        if len(shared) == 1 or (shared and not needs_team):
            return shared[0]
        if not shared:
            raise _NoTeam(texts.no_shared_team())
        raise _NoTeam(texts.which_team(sorted(t.name for t in shared)))

    async def _bot_teams(self) -> list[Team]:
        at, teams = self._teams
        now = self._svc.clock.now_ms()
        if now - at >= TEAMS_TTL_MS or not teams:
            teams = await self._svc.chat.my_teams()
            self._teams = (now, teams)
        return teams

    # ---- the answer -------------------------------------------------------------------
    def _for_chat(self, req: CommandRequest, reply: Reply, name: str) -> Reply:
        """Turn a dialog wish into its button; put the chat hint above the help."""
        if reply.dialog_title:
            if len(req.text) > RERUN_MAX_TEXT:
                return Reply(texts.too_long_for_a_button())
            return Reply(
                texts.open_dialog_prompt(reply.dialog_title),
                attachments=rerun_button(self._svc, req, reply.dialog_title),
            )
        sub, args, _ = split(req.text)
        if sub in ("", "help") and reply.text:
            reply.text = texts.chat_help_intro(name) + "\n\n" + reply.text
        if req.via == "mention" and sub in THREAD_ANSWERS and not args and not reply.refused:
            reply.in_channel = True  # about this channel's incident: for everyone in it
        return reply

    async def _answer(self, msg: ChatMessage, reply: Reply) -> None:
        chat = self._svc.chat
        props: dict[str, Any] | None = (
            {"attachments": reply.attachments} if reply.attachments else None
        )
        if not reply.text and not props:
            await chat.add_reaction(self._svc.bot_user_id, msg.post_id, texts.ACK_EMOJI)
        elif msg.via == "dm":
            await chat.create_post(msg.channel_id, reply.text, props=props, root_id=msg.root_id)
        elif reply.in_channel:
            root = msg.root_id or msg.post_id
            await chat.create_post(msg.channel_id, reply.text, props=props, root_id=root)
        else:
            preamble = texts.about_your_mention(msg.channel_name)
            await self._svc.notifier.tell(
                msg.user_id, msg.channel_id, reply.text, props, dm_preamble=preamble
            )


def _last_pointer(reply: Reply, miss: Verdict | None) -> Reply:
    """The answer to a message that is no command; the last of a streak says warroom
    will now wait for a command (see :class:`bot.domain.ratelimit.MissStreak`)."""
    if miss is Verdict.TELL:
        reply.text = f"{reply.text}\n\n{texts.quiet_until_a_command()}"
    return reply


def rerun_button(svc: Services, req: CommandRequest, title: str) -> list[dict[str, Any]]:
    """The button that runs ``req.text`` again from a click (whose trigger id opens the
    dialog), usable by ``req.user_id`` only, for an hour."""
    params = {
        "text": req.text,
        "team": req.team_id,
        "tn": req.team_domain,
        "channel": req.channel_id,
    }
    return texts.dialog_button(
        svc.buttons,
        title=title,
        action=RERUN_ACTION,
        params=params,
        user_id=req.user_id,
        ttl_ms=RERUN_TTL_MS,
    )


def register_rerun(interactions: InteractionRouter, commands: CommandRouter) -> None:
    """The click on a :func:`rerun_button`: the same command, now with a trigger id.

    The signed context is bound to the asker (verified before this runs); the command runs
    with the clicker's id, so every right is checked again, at click time.
    """

    async def click_rerun(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
        creq = CommandRequest(
            team_id=str(claims.p.get("team", "")),
            team_domain=str(claims.p.get("tn", "")),
            channel_id=str(claims.p.get("channel", "")),
            user_id=req.user_id,
            user_name=req.user_name,
            command="/incident",
            text=str(claims.p.get("text", "")),
            trigger_id=req.trigger_id,
            via="button",
        )
        reply = await run_command(svc, commands, creq)
        return ActionResponse(ephemeral_text=reply.text)

    interactions.action(RERUN_ACTION, click_rerun)
