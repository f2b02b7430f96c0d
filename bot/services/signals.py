"""Signals: a message that looks like an incident gets one offer to start one.

A playbook in ``playbooks.yaml`` may list ``signal_keywords`` (words or phrases) and
``signal_channels``. A person's message in one of those channels that contains a keyword
(as a whole word or phrase, any case, any spacing) gets, in its thread, one post with a
**Start incident** button that opens the start dialog with that playbook chosen and the
message quoted as the origin. One offer per thread and playbook, stored, so a restart or a
second delivery of the message never offers again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.models import Playbook
from bot.log import get_logger
from bot.render import conversation as texts
from bot.render.cards import start_button
from bot.render.views import ButtonMaker
from bot.services.ports import ChatClient, ChatRefused, SignalOffers

log = get_logger(__name__)


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str]:
    """One regex finding any keyword as a whole word/phrase (``db down`` ~ ``DB   down``)."""
    parts = [r"\s+".join(re.escape(w) for w in k.split()) for k in keywords if k.split()]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class SignalRule:
    """One playbook's signals, compiled."""

    playbook_id: str
    playbook_title: str
    team_id: str
    pattern: re.Pattern[str]

    def match(self, message: str) -> str:
        """The keyword found in ``message`` as written there, or ""."""
        found = self.pattern.search(message)
        return found.group(0) if found else ""


class SignalWatcher:
    """Indexes signal rules by channel and makes the offers."""

    def __init__(
        self,
        *,
        chat: ChatClient,
        store: SignalOffers,
        buttons: ButtonMaker,
        clock: Clock,
    ) -> None:
        self._chat = chat
        self._store = store
        self._buttons = buttons
        self._clock = clock
        self._by_channel: dict[str, list[SignalRule]] = {}

    @property
    def channel_ids(self) -> frozenset[str]:
        """The channels being watched (the intake decodes their posts)."""
        return frozenset(self._by_channel)

    def load(self, playbooks: Iterable[Playbook]) -> None:
        """Replace the index with the signals of ``playbooks``."""
        index: dict[str, list[SignalRule]] = {}
        for pb in playbooks:
            if not pb.signal_keywords or not pb.signal_channel_ids:
                continue
            rule = SignalRule(pb.id, pb.title, pb.team_id, keyword_pattern(pb.signal_keywords))
            for channel_id in pb.signal_channel_ids:
                index.setdefault(channel_id, []).append(rule)
        self._by_channel = index
        log.info("signals_loaded", channels=len(index))

    async def on_message(self, *, post_id: str, root_id: str, channel_id: str, message: str) -> int:
        """Offer a start for each playbook whose keywords ``message`` contains; returns
        how many offers were posted (0 when not watched, no match, or offered before)."""
        offered = 0
        for rule in self._by_channel.get(channel_id, ()):
            keyword = rule.match(message)
            if not keyword:
                continue
            thread = root_id or post_id
            claimed = await self._store.claim_offer(
                root_id=thread, playbook_id=rule.playbook_id, post_id=post_id,
                now=self._clock.now_ms(),
            )  # fmt: skip
            if not claimed:
                continue
            try:
                await self._offer(
                    rule, keyword, post_id=post_id, thread=thread, channel_id=channel_id
                )
            except ChatRefused as exc:
                await self._store.forget_offer(root_id=thread, playbook_id=rule.playbook_id)
                log.warning("signal_offer_refused", channel_id=channel_id, error=exc.error_id)
                continue
            offered += 1
        return offered

    async def _offer(
        self, rule: SignalRule, keyword: str, *, post_id: str, thread: str, channel_id: str
    ) -> None:
        params = {
            "team": rule.team_id,
            "channel": channel_id,
            "post": post_id,
            "playbook": rule.playbook_id,
        }
        props = {"attachments": start_button(self._buttons, params=params)}
        await self._chat.create_post(
            channel_id, texts.signal_offer(rule.playbook_title, keyword), props=props,
            root_id=thread,
        )  # fmt: skip
        log.info("signal_offered", playbook_id=rule.playbook_id, post_id=post_id)
