"""Every sentence warroom says, in one place."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.models import Incident, TaskState
from bot.errors import (
    ChatUnavailable,
    InputError,
    InvalidTransition,
    NotFound,
    Pending,
    PermissionDenied,
    StoreUnavailable,
    WarroomError,
)
from bot.render.format import (
    cell,
    channel_link,
    code,
    duration,
    markdown_line,
    name,
    quote,
    timestamp,
)
from bot.render.limits import REASONS as LIMIT_REASONS
from bot.render.playbooks import REASONS as PLAYBOOK_REASONS
from bot.render.views import Names

PRODUCT = "warroom"

USAGE: dict[str, str] = {
    "help": "/incident help",
    "start": "/incident start [name | post link]",
    "end": "/incident end [~incident-channel]",
    "restart": "/incident restart [~incident-channel]",
    "update": "/incident update",
    "check": "/incident check <stage#> <task#>",
    "stage": "/incident stage next|prev",
    "commander": "/incident commander [@user]",
    "announce": "/incident announce ~channel [~channel…]",
    "list": "/incident list",
    "info": "/incident info [~channel]",
    "timeline": "/incident timeline [~incident-channel]",
    "severity": "/incident severity <level>",
    "stats": "/incident stats [days]",
    "webhooks": "/incident webhooks [~incident-channel]",
    "review": "/incident review [~incident-channel]",
    "export": "/incident export [~incident-channel]",
    "task": "/incident task add|edit|remove|move|state|assign …",
    "playbook": "/incident playbook list|show|create|edit|delete|members|reload|import|export",
    "test": "/incident test create-incident|bulk-data …",
}

HELP_LINES: tuple[tuple[str, str], ...] = (
    ("start", "Open the dialog that starts an incident and its channel."),
    ("end", "End the incident of this (or another) channel (asks to confirm)."),
    ("restart", "Re-open the ended incident of this (or another) channel."),
    ("info", "Show a summary of the incident of this channel."),
    ("list", "List your ongoing incidents in this team."),
    ("commander", "Show the commander, or hand the role to another channel member."),
    ("announce", "Announce the incident in other channels."),
)

# One line per subcommand in `/incident help` (besides HELP_LINES).
SUBCOMMAND_HELP: dict[str, str] = {
    "playbook": "Playbooks: list, show, create, edit, delete, members, import, export, reload.",
    "timeline": "Show the timeline of this (or another) incident.",
    "review": "Review an incident: duration, people, messages, chart.",
    "export": "Upload a Markdown post-mortem document to the channel.",
    "severity": "Show or change the severity of this incident.",
    "stats": "Team-wide incident numbers of the last days.",
    "update": "Post a status update and set a reminder for the next.",
    "test": "Create test incidents (admins, when testing is enabled).",
}

STATE_MARK = {
    TaskState.OPEN: "☐",
    TaskState.IN_PROGRESS: "◐",
    TaskState.DONE: "☑",
    TaskState.SKIPPED: "⊘",
}


def help_text(extra: Sequence[tuple[str, str]] = ()) -> str:
    lines = [f"**{PRODUCT}** — incident management. Commands:"]
    for key, text in (*HELP_LINES, *extra, ("help", "Show this help.")):
        lines.append(f"- `{USAGE[key]}` — {text}")
    lines.append(
        "Task commands run as the warroom bot, not as you: Mattermost lets a bot run"
        " slash commands only as itself."
    )
    return "\n".join(lines)


def usage(command: str) -> str:
    return f"Usage: `{USAGE.get(command, USAGE['help'])}`"


def unknown_subcommand(word: str) -> str:
    return f"I don't know {code(word)}. " + help_text()


# ---- errors -----------------------------------------------------------------------------

_REASONS: dict[str, str] = {
    "not_incident_channel": "This channel is not an incident channel. Run it in one.",
    "not_channel_member": "Only members of the incident channel can do that.",
    "cannot_view": "You can't see that incident.",
    "not_team_member": "You are not a member of this team.",
    "no_playbook": "You have no playbook you may use in this team.",
    "playbook_not_usable": "You may not use that playbook.",
    "already_ended": "This incident has already ended.",
    "not_ended": "This incident is ongoing; only an ended incident can be restarted.",
    "channel_archived": (
        "The incident channel is archived. Ask a team admin to restore it"
        " (channel menu → Unarchive), then restart the incident."
    ),
    "already_commander": "That user is already the commander.",
    "guest_cannot_create": "Guests can't start incidents: ask a team member.",
    "too_many_arguments": "Too many arguments.",
    "missing_argument": "An argument is missing.",
    "one_line_start": ('To start at once, write `start "<name>" with <playbook> [sev <level>]`.'),
    "bad_username": "That is not a username: write it as @name.",
    "bad_channel": "That is not a channel: write it as ~channel-name.",
    "bad_post": "That is not a post link or post id.",
    "not_in_channel": "That user is not a member of the incident channel; add them first.",
    "not_in_team": (
        "That user is not in this team, so they can't join the incident channel: pick someone"
        " from the team."
    ),
    "is_bot": "A bot can't be the commander.",
    "user_deactivated": (
        "That user is deactivated in Mattermost and can't act; choose an active member."
    ),
    "stale_dialog": "This dialog has expired or was already submitted. Start again.",
    "stale_button": "This button has expired. Use the newest post, or the slash command.",
    "post_not_visible": "I can't read that post, or you can't.",
    "channel_create_failed": "Mattermost refused to create the incident channel.",
    "argument_too_long": "That argument is too long.",
    "dialog_too_slow": "Mattermost took too long to open the dialog. Please try again.",
    # ---- stages and tasks (bot/render/checklist.py) ----
    "not_a_number": "That is not a number:",
    "stage_out_of_range": "There is no such stage.",
    "task_out_of_range": "There is no such task.",
    "position_out_of_range": "There is no such position.",
    "no_stages": "This incident has no stages.",
    "first_stage": "This is already the first stage.",
    "last_stage": "This is already the last stage; end the incident when you are done.",
    "task_gone": "That task no longer exists; use the newest checklist.",
    "stage_gone": "That stage no longer exists.",
    "position_gone": "That position no longer exists in the stage.",
    "last_task": (
        "That is the only task of its stage, and every stage keeps at least one: change it"
        " with `/incident task edit`, or add another task to the stage first."
    ),
    "bad_stage_direction": "Say `next` or `prev`.",
    "bad_task_subcommand": "Say `add`, `edit`, `remove`, `move`, `state` or `assign`.",
    "bad_task_state": "Say `open`, `progress`, `done` or `skipped`.",
    "assignee_is_bot": "A bot can't be assigned a task.",
    "no_command": "That task has no command to run.",
    "already_running": "That command is running already.",
    "just_ran": "That command just ran; click Run on the updated checklist to run it again.",
    "unknown_severity": "Choose one of the listed severity levels.",
    "webhooks_admins_only": "Only system admins can see webhook deliveries.",
    "webhooks_enable_admins_only": "Only system admins can re-enable a webhook endpoint.",
}
_REASONS.update(PLAYBOOK_REASONS)  # playbook management (render/playbooks.py)
_REASONS.update(LIMIT_REASONS)  # every length limit (render/limits.py)


def error_text(error: WarroomError, command: str = "") -> str:
    """One short sentence for the user, with the usage line where it helps."""
    text: str
    if isinstance(error, NotFound):
        named = f" {code(error.name)}" if error.name else ""
        text = {
            "user": f"There is no user{named}.",
            "channel": f"There is no channel{named} that I can see.",
            "incident": "There is no incident here.",
            "playbook": f"There is no playbook{named} you may use.",
            "post": "I can't find that post.",
        }.get(error.what, f"Not found: {error.what}{named}.")
    elif isinstance(error, PermissionDenied | InvalidTransition):
        text = _REASONS.get(error.reason, "You can't do that here.")
    elif isinstance(error, InputError):
        text = _REASONS.get(error.reason, "That input is not valid.")
        if error.detail:
            text = f"{text} {error.detail}"
    elif isinstance(error, ChatUnavailable):
        text = (
            "Mattermost did not answer in time. If it went through you will see it shortly; "
            "otherwise try again in a moment."
        )
    elif isinstance(error, Pending):
        text = _PENDING.get(error.what, _PENDING["other"])
    elif isinstance(error, StoreUnavailable):
        text = (
            "I could not save that: my database is not available right now (an administrator "
            "has been told in the logs). Nothing was changed; please try again in a moment."
        )
    else:
        text = "Something went wrong. It has been logged."
    if command and isinstance(error, InputError):
        text = f"{text}\n{usage(command)}"
    return text


def field_error(reason: str) -> str:
    return _REASONS.get(reason, "Not valid.")


def unexpected_error() -> str:
    return "Sorry, something went wrong on my side. It has been logged."


# An unknown outcome (a lost or late answer): what is known, and that warroom finishes it.
_PENDING = {
    "start": (
        "Mattermost did not answer in time while I was creating the incident channel. "
        "The incident is recorded: I will finish starting it (without a second channel) and "
        "tell you, or tell you if Mattermost refuses. No need to start it again."
    ),
    "status_update": (
        "Mattermost did not answer in time. Your update is recorded: I will post it once "
        "(checking first whether it already went through). No need to send it again."
    ),
    "other": "Mattermost did not answer in time. What I recorded stands; I will finish the rest.",
}


def bad_callback() -> str:
    return _REASONS["stale_button"]


# ---- starting ---------------------------------------------------------------------------


def no_playbook(team_name: str) -> str:
    return (
        "You have no playbook you may use in this team. Create one with"
        " `/incident playbook create` (the built-in template is a good start), ask a playbook"
        " member to share one with you, or ask an admin to add one for team"
        f" {code(team_name)} to `playbooks.yaml`."
    )


def origin_description(post_message: str, link: str) -> str:
    return f"Started from {link}:\n{quote(post_message, 700)}"


def incident_started(incident: Incident, names: Names, origin_link: str = "") -> str:
    text = f"{names.at(incident.reporter_id)} started the incident **{name(incident.name)}**"
    text += f" with playbook _{name(incident.playbook_title)}_."
    if incident.description:
        text += "\n" + quote(incident.description)
    if origin_link:
        text += f"\nOrigin: {origin_link}"
    return text


def tell_reporter(incident: Incident) -> str:
    return f"Incident **{name(incident.name)}** is open in {channel_link(incident.channel_name)}."


def invite_failures(usernames: Sequence[str]) -> str:
    return "I could not add these members to the incident channel: " + ", ".join(
        f"@{u}" for u in usernames
    )


def broadcast_dropped() -> str:
    return (
        "Not announced in the playbook's broadcast channel: whoever chose it can no longer read"
        " it. A playbook member can pick another with `/incident playbook edit`."
    )


def start_failed() -> str:
    return (
        "The incident channel was created, but Mattermost failed while I was setting it up: "
        "I could not finish setting it up yet. The summary card and checklist will be posted "
        "as soon as Mattermost answers again."
    )


def start_refused() -> str:
    return (
        "Mattermost refused to create the incident channel, so the incident was not started. "
        "Start it again, perhaps with another name."
    )


def announcement(incident: Incident, names: Names) -> str:
    """The start announcement (broadcast channel, ``announce``): who commands and how a reader
    gets into the incident channel. Only public channels can be joined by non-members
    (Mattermost lists and opens private ones for their members only), so a private incident
    channel names whom to ask instead."""
    commander = names.at(incident.commander_id)
    link = channel_link(incident.channel_name)
    if incident.private_channel:
        how = f"{link} is private: ask {commander} to add you to follow or help."
    else:
        how = f"join {link} to follow or help."
    return f"#### :rotating_light: Incident: {name(incident.name)}\nCommander {commander} · {how}"


def announce_results(ok: Sequence[str], failed: Sequence[tuple[str, str]]) -> str:
    lines = []
    if ok:
        lines.append("Announced in " + ", ".join(channel_link(c) for c in ok) + ".")
    for channel, why in failed:
        reason = {
            "unknown": (
                "no channel of that name that you can read"
                " (a private one: add @warroom to it first)"
            ),
            "forbidden": "I am not a member there: add @warroom to it",
            "error": "Mattermost refused the post",
            "unavailable": "Mattermost did not answer; announce there again in a moment",
        }.get(why, why)
        if why == "maybe":  # the post may exist: never an invitation to post it twice
            lines.append(
                f"{channel_link(channel)} may have been announced: Mattermost's answer was"
                " lost, so look there before you announce again."
            )
            continue
        lines.append(f"Not announced in {channel_link(channel)}: {reason}.")
    return "\n".join(lines)


# ---- lifecycle --------------------------------------------------------------------------


def ended(incident: Incident, names: Names, actor_id: str, now: int) -> str:
    return (
        f"{names.at(actor_id)} ended the incident after "
        f"{duration(incident.duration_ms(now))}. `/incident restart` re-opens it."
    )


def ended_by_archive(incident: Incident, now: int) -> str:
    """Told where people still read (the broadcast channel) when the channel was archived."""
    return (
        f"Incident **{name(incident.name)}** ended after "
        f"{duration(incident.duration_ms(now))}: its channel {channel_link(incident.channel_name)}"
        " was archived."
    )


def ended_by_archive_dm(incident: Incident) -> str:
    """Told to the commander when the incident channel was archived."""
    link = channel_link(incident.channel_name)
    return (
        f"The channel {link} of incident **{name(incident.name)}** was archived, so the "
        "incident ended. To go on with it, ask a team admin to restore the channel, then run "
        f"`/incident restart {link}`."
    )


def restarted_elsewhere(incident: Incident) -> str:
    """The reply to ``restart ~channel`` run outside the incident channel."""
    return f"Incident **{name(incident.name)}** is ongoing again in {channel_link(incident.channel_name)}."


def restarted(names: Names, actor_id: str) -> str:
    return f"{names.at(actor_id)} restarted the incident."


def end_dialog_intro(incident: Incident) -> str:
    return (
        f"End **{name(incident.name)}**? The duration clock stops and pending reminders are "
        "cancelled. You can restart it later."
    )


def commander_is(incident: Incident, names: Names) -> str:
    return f"The commander is {names.at(incident.commander_id)}."


def commander_changed(names: Names, actor_id: str, old_id: str, new_id: str) -> str:
    return (
        f"{names.at(actor_id)} changed the commander from {names.at(old_id)} to {names.at(new_id)}."
    )


# ---- info and list ----------------------------------------------------------------------


def status_word(incident: Incident) -> str:
    return "Ongoing" if incident.is_ongoing else "Ended"


def stage_label(incident: Incident) -> str:
    stage = incident.current_stage
    if stage is None:
        return "no stages"
    return (
        f"{incident.active_stage + 1}/{len(incident.stages)} {name(stage.title)}"
        f" ({stage.done_count}/{len(stage.tasks)} done)"
    )


def _last_update(text: str) -> str:
    """The last status update (already rendered markdown) below its label, or "none yet"."""
    return "\n" + text if text else " none yet"


def info(incident: Incident, names: Names, now: int, last_update: str = "") -> str:
    lines = [
        f"### {name(incident.name)}",
        f"**Commander:** {names.at(incident.commander_id)}",
        f"**Status:** {status_word(incident)}",
        f"**Stage:** {stage_label(incident)}",
        f"**Duration:** {duration(incident.duration_ms(now))} (started {timestamp(incident.created_at)})",
        f"**Last status update:**{_last_update(last_update)}",
    ]
    if incident.severity:
        lines.insert(3, f"**Severity:** {name(incident.severity)}")
    stage = incident.current_stage
    if stage is not None and stage.tasks:
        lines.append(f"**Tasks of {name(stage.title)}:**")
        for n, task in enumerate(stage.tasks, start=1):
            who = f" — {names.at(task.assignee_id)}" if task.assignee_id else ""
            lines.append(f"{n}. {STATE_MARK[task.state]} {markdown_line(task.title)}{who}")
    return "\n".join(lines)


def origin_line(link: str, message: str, *, deleted: bool) -> str:
    """The origin post of a start, as read when shown (``info``)."""
    if deleted:
        return f"**Origin:** a post since deleted in Mattermost ({link})"
    text = f"**Origin:** {link}"
    return text + ("\n" + quote(message, 300) if message else "")


def memberships_unknown(count: int) -> str:
    """A read left out ``count`` private incidents whose channel members warroom is still
    re-reading (after a restart or a gap in its event stream); "" when none."""
    if count <= 0:
        return ""
    which = "1 private incident is" if count == 1 else f"{count} private incidents are"
    return (
        f"_{which} not included: warroom is re-reading who is in their channels. "
        "Try again in a moment._"
    )


def incident_list(incidents: Sequence[Incident], names: Names, now: int, unknown: int = 0) -> str:
    """The caller's ongoing incidents; ``unknown``: private ones left out (see
    :func:`memberships_unknown`)."""
    note = memberships_unknown(unknown)
    if not incidents:
        return "\n".join(filter(None, ["You have no ongoing incidents in this team.", note]))
    lines = ["| Incident | Severity | Stage | Duration | Commander |", "|---|---|---|---|---|"]
    for inc in incidents:
        stage = inc.current_stage.title if inc.current_stage else "—"
        lines.append(
            f"| {channel_link(inc.channel_name)} | {cell(inc.severity) or '—'} | {cell(stage)} | "
            f"{duration(inc.duration_ms(now))} | {names.at(inc.commander_id)} |"
        )
    if note:
        lines += ["", note]
    return "\n".join(lines)


def still_working() -> str:
    return "Still working on it; I'll post the answer here when it's done."


def start_from_post_prompt() -> str:
    return "Start an incident from this post? The post will be quoted as its origin."


def unknown_command_token() -> str:
    return (
        "warroom does not recognise this slash command's token. An administrator should run "
        "`warroom setup` for this team (or add the token to WARROOM_COMMAND_TOKENS)."
    )


def malformed_callback() -> str:
    """The body of a 400 to a callback that is not what Mattermost sends (no person reads it)."""
    return "Not a Mattermost request warroom understands."


# ---- background work that failed (issue 9, kind 6) -----------------------------------------
# Said to a person who can act on it: the actor, else the commander or reporter.


def announcement_failed(incident: Incident) -> str:
    return (
        f"I could not announce **{name(incident.name)}** in the playbook's broadcast channel"
        " (Mattermost refused or failed). Announce it yourself with"
        " `/incident announce ~channel` in the incident channel, and ask an admin to check that"
        " @warroom may post in the broadcast channel."
    )


def refresh_failed(incident: Incident) -> str:
    return (
        f"The change to **{name(incident.name)}** is saved, but I could not update its summary"
        " card and checklist (Mattermost refused or failed), so they may show an older state."
        " `/incident info` shows the current one; the next change updates them again."
    )


def channel_post_failed(incident: Incident) -> str:
    return (
        f"Your change to **{name(incident.name)}** is saved, but I could not say so in the"
        " incident channel (Mattermost refused or failed): tell the others yourself."
    )


def setup_step_failed(incident: Incident) -> str:
    return (
        f"Setting up **{name(incident.name)}** did not finish (Mattermost refused or failed)."
        " Check the incident channel: add missing members by hand, and run `/incident info`;"
        " if the summary card or checklist is missing, they are posted again after warroom"
        " reconnects."
    )


def done_unconfirmed(confirmation: str) -> str:
    """A dialog's change is saved but Mattermost did not show its confirmation: the dialog
    itself says it is done (shown in the dialog, which stays open)."""
    return (
        f"{confirmation}\nMattermost did not show you this confirmation, so it is shown here:"
        " it is done, nothing to send again. You can close this dialog."
    )


def late_reply_failed(reply: str) -> str:
    return f"Your `/incident` command finished late, and Mattermost refused its answer:\n{reply}"


def pin_failed(incident: Incident) -> str:
    return (
        f"I could not add that post to the timeline of **{name(incident.name)}** (Mattermost"
        " refused or failed). Remove your reaction and add it again in a moment."
    )
