"""Texts of the conversational side: direct messages, @mentions, signals (issue 11)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.render.format import channel_link, code, name
from bot.render.messages import help_text
from bot.render.views import ButtonMaker

# Shown as examples of what works; the chat and the slash command share one language.
EXAMPLES = ("help", "list", "info", "start <name>", "stats 30", "playbook list")
ACK_EMOJI = "white_check_mark"  # reaction on a chat command that changed something, silently


def did_you_mean(suggestion: str | None) -> str:
    return f" Did you mean `{suggestion}`?" if suggestion else ""  # one of our own names


def not_a_command(word: str, suggestion: str | None, *, chat: bool) -> str:
    """The answer to an unknown subcommand: short in chat, with the help under /incident."""
    if not chat:
        return f"I don't know {code(word)}.{did_you_mean(suggestion)} " + help_text()
    tried = f"I don't know {code(word)}." if word else "I didn't catch a command there."
    examples = ", ".join(f"`{e}`" for e in EXAMPLES)
    return f"{tried}{did_you_mean(suggestion)} Try {examples} — or `help` for the full list."


def about_your_mention(channel_name: str) -> str:
    """The first line of an answer to a mention that is sent by direct message: the DM is
    another place, so it names the channel where the person asked (``channel_name``, the
    URL name from the ``posted`` event; empty when unknown)."""
    where = f" in {channel_link(channel_name)}" if channel_name else " that mentioned me"
    return f"About your message{where}:"


def empty_mention(bot_username: str) -> str:
    return f"Yes? Write a command after the mention, e.g. `@{bot_username} help`."


def chat_help_intro(bot_username: str) -> str:
    """Above the help in a DM or a mention: the same commands, without ``/incident``."""
    return (
        f"Here, write the commands without `/incident` (in a channel, after `@{bot_username}`)."
        " In a direct message, add `in <team>` when we share several teams."
    )


def quiet_until_a_command() -> str:
    """The end of the last pointer in a row (warroom then waits for a command)."""
    return (
        "That's three messages in a row I couldn't read as a command, so I'll stay quiet"
        " until you send a command (`help` lists them)."
    )


def slow_down(seconds: int) -> str:
    return (
        f"You're sending me commands faster than I take them. Please wait about {seconds} s;"
        " I'll ignore messages until then."
    )


def no_shared_team() -> str:
    return "We share no team, so there is nothing I can do for you here. Ask to be added to one."


def which_team(names: Sequence[str]) -> str:
    listed = ", ".join(code(n) for n in names)
    example = code(f"list in {names[0] if names else 'acme'}")
    return f"We share several teams ({listed}). Say which one at the end, e.g. {example}."


def open_dialog_label(title: str) -> str:
    """The label of the button that opens a dialog a chat message cannot open itself."""
    return title.strip() or "Open the dialog"


def open_dialog_prompt(title: str) -> str:
    what = f"**{name(title)}**" if title.strip() else "a dialog"
    return f"That opens {what}, which I can only show you after a click:"


def too_long_for_a_button() -> str:
    return "That command is too long to offer as a button; use `/incident` instead."


def signal_offer(playbook_title: str, keyword: str) -> str:
    return (
        f"This looks like it could be an incident ({code(keyword)})."
        f" Start one with the **{name(playbook_title)}** playbook?"
    )


def dialog_button(
    buttons: ButtonMaker,
    *,
    title: str,
    action: str,
    params: dict[str, Any],
    user_id: str,
    ttl_ms: int,
) -> list[dict[str, Any]]:
    """One attachment with the button that opens the dialog ``title`` from a click."""
    label = open_dialog_label(title)
    button = buttons.button(
        action_id="opendialog",
        label=label,
        action=action,
        incident_id="",
        style="primary",
        params=params,
        user_id=user_id,
        ttl_ms=ttl_ms,
    )
    return [{"fallback": label, "actions": [button]}]
