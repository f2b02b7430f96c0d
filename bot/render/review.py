"""Texts of the timeline, review, stats, severity, post-mortem export and test data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.domain.ids import is_mm_id
from bot.domain.models import EventKind, Incident, TaskState, TimelineEvent
from bot.domain.review import Group, Stats, TaskDone
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
from bot.render.messages import STATE_MARK, memberships_unknown, status_word
from bot.render.views import Names
from bot.services.ports import Post

TIMELINE_MAX_LINES = 60
TEXT_MAX = 14_000
REVIEW_MAX_TASKS = 30  # the review post must stay under Mattermost's 16383 characters
CHART_FILE = "task-completion.png"

_VERBS: dict[EventKind, str] = {
    EventKind.CREATED: "started the incident",
    EventKind.ENDED: "ended the incident",
    EventKind.RESTARTED: "restarted the incident",
    EventKind.COMMANDER_CHANGED: "changed the commander",
    EventKind.ANNOUNCED: "announced the incident",
    EventKind.STAGE_CHANGED: "moved the stage",
    EventKind.TASK_CHECKED: "checked off a task",
    EventKind.TASK_UNCHECKED: "unchecked a task",
    EventKind.TASK_ASSIGNED: "changed a task's assignee",
    EventKind.TASK_STATE_CHANGED: "changed a task's state",
    EventKind.TASK_EDITED: "edited the tasks",
    EventKind.COMMAND_RUN: "ran a task's command",
    EventKind.COMMAND_HANDED: "took a task's command to run it themselves",
    EventKind.STATUS_UPDATED: "posted a status update",
    EventKind.MEMBER_JOINED: "joined the channel",
    EventKind.MEMBER_LEFT: "left the channel",
    EventKind.POST_PINNED: "pinned a post to the timeline",
    EventKind.SEVERITY_CHANGED: "changed the severity",
    EventKind.CHANNEL_ARCHIVED: "archived the incident channel",
    EventKind.CHANNEL_RESTORED: "restored the incident channel",
}
# Data keys rendered specially (or not at all) rather than as ``key: value``.
_SPECIAL = {"from", "to", "message", "link", "post_id", "author_id", "user_id"}


def _code(word: str, limit: int) -> str:
    """User input shown as typed (cut at ``limit`` characters), in a code span."""
    return code(word[:limit])


# ---- events --------------------------------------------------------------------------------


def event_user_ids(events: Iterable[TimelineEvent]) -> set[str]:
    """Every user id an event line may mention (actors and ids in the data)."""
    ids: set[str] = set()
    for event in events:
        ids.add(event.actor_id)
        ids.update(v for v in event.data.values() if isinstance(v, str) and is_mm_id(v))
    return ids


def _value(value: Any, names: Names) -> str:
    if isinstance(value, str):
        if is_mm_id(value) and value in names.by_id:
            return names.at(value)
        return name(value[:120]) if value else "none"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v, names) for v in value) or "none"
    return name(str(value))


def _task(data: dict[str, Any]) -> str:
    stage = f" ({name(str(data['stage_title']))})" if data.get("stage_title") else ""
    return f"**{markdown_line(str(data.get('title', 'a task')))}**{stage}"


def _user(value: Any, names: Names) -> str:
    return names.at(value) if isinstance(value, str) and value else "nobody"


def _reminder(data: dict[str, Any]) -> str:
    seconds = data.get("reminder_seconds")
    if not isinstance(seconds, int) or seconds <= 0:
        return ""
    return f" (next update due in {duration(seconds * 1000)})"


_Sentence = Callable[[dict[str, Any], Names], str]
# Known kinds read as sentences; kinds added later fall back to the generic form below.
_SENTENCES: dict[EventKind, _Sentence] = {
    EventKind.CREATED: lambda d, n: (
        f"started the incident **{name(str(d.get('name', '')))}**"
        + (f" with playbook _{name(str(d['playbook']))}_" if d.get("playbook") else "")
    ),
    EventKind.COMMANDER_CHANGED: lambda d, n: (
        f"changed the commander from {_user(d.get('from'), n)} to {_user(d.get('to'), n)}"
    ),
    EventKind.STAGE_CHANGED: lambda d, n: (
        f"moved the stage from **{name(str(d.get('from_title', d.get('from', ''))))}**"
        f" to **{name(str(d.get('to_title', d.get('to', ''))))}**"
    ),
    EventKind.TASK_CHECKED: lambda d, n: f"checked off {_task(d)}",
    EventKind.TASK_UNCHECKED: lambda d, n: f"unchecked {_task(d)}",
    EventKind.TASK_STATE_CHANGED: lambda d, n: (
        f"set {_task(d)} from {name(str(d.get('from', '')).replace('_', ' '))}"
        f" to {name(str(d.get('to', '')).replace('_', ' '))}"
    ),
    EventKind.TASK_ASSIGNED: lambda d, n: (
        f"changed the assignee of {_task(d)} from {_user(d.get('from'), n)}"
        f" to {_user(d.get('to'), n)}"
    ),
    EventKind.TASK_EDITED: lambda d, n: f"{name(str(d.get('op', 'edited')))} the task {_task(d)}",
    EventKind.COMMAND_RUN: lambda d, n: (
        f"ran {_code(str(d.get('command', '')), 200)} for {_task(d)}"
    ),
    EventKind.COMMAND_HANDED: lambda d, n: (
        f"took {_code(str(d.get('command', '')), 200)} of {_task(d)} to run it themselves"
    ),
    EventKind.STATUS_UPDATED: lambda d, n: f"posted a status update{_reminder(d)}",
    EventKind.ENDED: lambda d, n: (
        "ended the incident"
        + (" because its channel was archived" if d.get("reason") == "channel_archived" else "")
    ),
    EventKind.CHANNEL_ARCHIVED: lambda d, n: "saw the incident channel archived",
    EventKind.CHANNEL_RESTORED: lambda d, n: "saw the incident channel restored",
    EventKind.SEVERITY_CHANGED: lambda d, n: (
        f"changed the severity from {name(str(d.get('from') or 'none'))}"
        f" to {name(str(d.get('to') or 'none'))}"
    ),
}


def event_text(event: TimelineEvent, names: Names) -> str:
    """One sentence for any event, known kinds and kinds added later alike."""
    who = names.at(event.actor_id) if event.actor_id else "warroom"
    sentence = _SENTENCES.get(event.kind)
    if sentence is not None:
        text = f"{who} {sentence(event.data, names)}"
        if event.data.get("message"):
            text += ":\n" + quote(str(event.data["message"]), 300)
        return text
    verb = _VERBS.get(event.kind, event.kind.value.replace("_", " "))
    data = event.data
    text = f"{who} {verb}"
    extras = [
        f"{name(str(k).replace('_', ' '))}: {_value(v, names)}"
        for k, v in data.items()
        if k not in _SPECIAL and v not in ("", None)
    ]
    if extras:
        text += " (" + "; ".join(extras) + ")"
    if "from" in data or "to" in data:
        text += (
            f" from {_value(data.get('from', ''), names)} to {_value(data.get('to', ''), names)}"
        )
    if event.kind is EventKind.POST_PINNED:
        author = data.get("author_id", "")
        by = f" by {names.at(author)}" if author else ""
        text += f": [post{by}]({data.get('link', '')})\n"
        text += (
            "> _(deleted in Mattermost)_"
            if data.get("deleted")
            else quote(str(data.get("message", "")), 300)
        )
    elif data.get("message"):
        text += ":\n" + quote(str(data["message"]), 300)
    return text


def event_line(event: TimelineEvent, incident: Incident, names: Names) -> str:
    offset = duration(event.at - incident.created_at) if event.at >= incident.created_at else "-"
    text = event_text(event, names).replace("\n", "\n  ")  # quotes stay in the list item
    return f"- {timestamp(event.at)} (+{offset}) {text}"


def _fit_lines(lines: list[str], limit: int) -> tuple[list[str], int]:
    """The newest lines that fit in ``limit`` characters; how many were left out."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines[-TIMELINE_MAX_LINES:]):
        if size + len(line) > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return list(reversed(kept)), len(lines) - len(kept)


def timeline(incident: Incident, events: Sequence[TimelineEvent], names: Names) -> str:
    head = f"### Timeline of {name(incident.name)}"
    if not events:
        return head + "\nNothing recorded yet."
    lines, left_out = _fit_lines([event_line(e, incident, names) for e in events], TEXT_MAX)
    note = [f"_{left_out} earlier events left out; `/incident export` has them all._"]
    return "\n".join([head, *(note if left_out else []), *lines])


# ---- severity ------------------------------------------------------------------------------


def severity_set(names: Names, actor_id: str, old: str, new: str) -> str:
    return f"{names.at(actor_id)} changed the severity from {name(old or 'none')} to {name(new)}."


def severity_same(level: str) -> str:
    return f"The severity is already {name(level)}."


def unknown_severity(word: str, levels: Sequence[str]) -> str:
    return f"There is no severity {_code(word, 32)}: use one of {', '.join(levels)}."


def severity_is(incident: Incident, levels: Sequence[str]) -> str:
    now = name(incident.severity) if incident.severity else "not set"
    return f"The severity is {now}. Levels: {', '.join(levels)}."


# ---- review --------------------------------------------------------------------------------


def review(
    incident: Incident,
    *,
    events: Sequence[TimelineEvent],
    names: Names,
    now: int,
    members: int,
    messages: int,
    tasks: Sequence[TaskDone],
) -> str:
    total = sum(len(s.tasks) for s in incident.stages)
    end = timestamp(incident.ended_at) if incident.ended_at is not None else "ongoing"
    lines = [
        f"### Review: {name(incident.name)}",
        f"**Channel:** {channel_link(incident.channel_name)} · **Status:** {status_word(incident)}"
        + (f" · **Severity:** {name(incident.severity)}" if incident.severity else ""),
        f"**Started:** {timestamp(incident.created_at)} · **Ended:** {end}",
        f"**Duration:** {duration(incident.duration_ms(now))}",
        f"**Members ever involved:** {members} · **Messages in the channel:** {messages}",
        f"**Tasks completed:** {len(tasks)} of {total}",
    ]
    for task in tasks[:REVIEW_MAX_TASKS]:
        lines.append(f"- {markdown_line(task.title)}: {duration(task.after_ms)} after the start")
    if len(tasks) > REVIEW_MAX_TASKS:
        lines.append(f"- … and {len(tasks) - REVIEW_MAX_TASKS} more (see the chart and the export)")
    lines.append("#### Timeline")
    body, left_out = _fit_lines([event_line(e, incident, names) for e in events], TEXT_MAX // 2)
    if left_out:
        lines.append(f"_{left_out} earlier events left out; `/incident export` has them all._")
    lines.extend(body or ["Nothing recorded yet."])
    lines.append("_The chart shows how long after the start each task was completed._")
    return "\n".join(lines)


def chart_title(incident: Incident) -> str:
    return f"{incident.name}: tasks completed, time after the start"


def review_sent_privately() -> str:
    return "I sent you the review in a direct message."


# ---- stats ---------------------------------------------------------------------------------


def _row(label: str, g: Group) -> str:
    mean = duration(g.mean_ms) if g.mean_ms is not None else "—"
    median = duration(g.median_ms) if g.median_ms is not None else "—"
    return f"| {label} | {g.started} | {g.ended} | {g.ongoing} | {mean} | {median} |"


def stats(result: Stats) -> str:
    head = "| | Started | Ended | Ongoing | Mean time to end | Median time to end |"
    lines = [
        f"### Incidents of the last {result.days} days",
        "_Started and ended within the period; ongoing now; only incidents you may view._",
        head,
        "|---|---:|---:|---:|---:|---:|",
        _row("**All**", result.total),
    ]
    if result.by_playbook:
        lines += ["", "**By playbook**", head, "|---|---:|---:|---:|---:|---:|"]
        lines += [_row(cell(k), g) for k, g in result.by_playbook.items()]
    if result.by_severity:
        lines += ["", "**By severity**", head, "|---|---:|---:|---:|---:|---:|"]
        lines += [_row(cell(k) if k else "_none_", g) for k, g in result.by_severity.items()]
    if result.unknown:
        lines += ["", memberships_unknown(result.unknown)]
    return "\n".join(lines)


# ---- export --------------------------------------------------------------------------------


def export_head(
    incident: Incident,
    *,
    names: Names,
    now: int,
    commanders: Sequence[tuple[str, int]],
    members: int,
    messages: int,
    events: Sequence[TimelineEvent],
    tasks: Sequence[TaskDone],
) -> str:
    """Everything of the post-mortem document before the channel's messages."""
    end = timestamp(incident.ended_at) if incident.ended_at is not None else "ongoing"
    out = [
        f"# Post-mortem: {incident.name}",
        "",
        "## Summary",
        "",
        f"- Status: {status_word(incident)}",
        f"- Severity: {incident.severity or 'not set'}",
        f"- Playbook: {incident.playbook_title}",
        f"- Channel: ~{incident.channel_name}",
        f"- Started: {timestamp(incident.created_at)}",
        f"- Ended: {end}",
        f"- Duration: {duration(incident.duration_ms(now))}",
        "- Commanders: "
        + ", ".join(f"{names.at(uid)} (from {timestamp(since)})" for uid, since in commanders),
        f"- Members ever involved: {members}",
        f"- Messages in the channel: {messages}",
        f"- Exported: {timestamp(now)}",
    ]
    if incident.description:
        out += ["", quote(incident.description, 2000)]
    out += ["", "## Status updates", ""]
    updates = [e for e in events if e.kind is EventKind.STATUS_UPDATED]
    for e in updates:
        text = str(e.data.get("message", ""))
        out += [f"### {timestamp(e.at)} by {names.at(e.actor_id)}", "", text, ""]
    if not updates:
        out += ["No status updates.", ""]
    out += ["## Checklist", ""]
    for n, stage in enumerate(incident.stages, start=1):
        out.append(
            f"### {n}. {stage.title}" + (" (active)" if n - 1 == incident.active_stage else "")
        )
        for task in stage.tasks:
            out.append(_task_line(task_state=task.state, title=task.title, assignee=task.assignee_id,
                                  done_at=task.done_at, done_by=task.done_by, names=names,
                                  start=incident.created_at))  # fmt: skip
        out.append("")
    if not incident.stages:
        out += ["No stages.", ""]
    out += ["## Task completion", "", f"![Tasks completed, time after the start]({CHART_FILE})", ""]
    out += [f"- {t.stage}: {t.title} — {duration(t.after_ms)} after the start" for t in tasks]
    out += ["", "## Timeline", ""]
    out += [event_line(e, incident, names) for e in events] or ["Nothing recorded."]
    out += ["", "## Channel messages", ""]
    return "\n".join(out) + "\n"


def _task_line(
    *,
    task_state: TaskState,
    title: str,
    assignee: str,
    done_at: int | None,
    done_by: str,
    names: Names,
    start: int,
) -> str:
    line = f"- {STATE_MARK[task_state]} {title} ({task_state.value})"
    if assignee:
        line += f", assigned to {names.at(assignee)}"
    if done_at is not None:
        who = f" by {names.at(done_by)}" if done_by else ""
        line += f", done{who} at {timestamp(done_at)} (+{duration(done_at - start)})"
    return line


def export_post(post: Post, names: Names) -> str:
    """One channel message of the export: time, author, text (system messages in italics)."""
    who = names.at(post.user_id) if post.user_id else "system"
    text = post.message
    if post.type.startswith("system_"):
        text = f"_{text}_"
    if not text and post.props.get("attachments"):
        text = "_(message with attachments)_"
    reply = " ↳" if post.root_id else ""
    body = text.replace("\n", "\n  ")
    files = f" _[{len(post.file_ids)} file(s)]_" if post.file_ids else ""
    return f"- **{timestamp(post.create_at)}**{reply} {who}: {body}{files}\n"


def update_deleted() -> str:
    return "_(this status update was deleted)_"


def export_no_messages() -> str:
    return "No messages.\n"


def export_filename(incident: Incident, now: int) -> str:
    return f"postmortem-{incident.channel_name}-{timestamp(now)[:10]}.md"


def export_posted(incident: Incident, names: Names, actor_id: str, messages: int) -> str:
    return (
        f"{names.at(actor_id)} exported the post-mortem of **{name(incident.name)}**"
        f" ({messages} channel messages)."
    )


def export_done(incident: Incident) -> str:
    return f"The post-mortem document is in {channel_link(incident.channel_name)}."


# ---- errors and refusals -------------------------------------------------------------------


def bad_days(word: str) -> str:
    return f"{_code(word, 32)} is not a number of days: give a whole number from 1 to 3650."


def not_an_incident(channel: str) -> str:
    return f"There is no incident with channel {_code('~' + channel, 65)} that you may view."


def testing_disabled() -> str:
    return (
        "Test commands are turned off. An admin can enable them with"
        " `WARROOM_TESTING_ENABLED=true`."
    )


def admins_only() -> str:
    return "Only system admins may create test data."


def bad_date(word: str) -> str:
    return f"{_code(word, 32)} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31."


def future_date(word: str) -> str:
    return f"{_code(word, 32)} is in the future: test incidents can only be backdated."


def end_before_begin() -> str:
    return "The end date must be after the begin date."


def bad_count(word: str, maximum: int) -> str:
    return f"{_code(word, 32)} is not a count: give a whole number from 0 to {maximum}."


def too_many(total: int, maximum: int) -> str:
    return f"That is {total} incidents; at most {maximum} can be created per call."


def bad_seed(word: str) -> str:
    return f"{_code(word, 32)} is not a seed: give a whole number."


def nothing_to_do() -> str:
    return "Nothing to do: both counts are 0."


def no_usable_playbook() -> str:
    return "You have no playbook you may use in this team, so I can't create test incidents."


def unknown_playbook(word: str) -> str:
    return (
        f"There is no playbook {_code(word, 64)} you may use: give its title (in quotes"
        " if it has spaces) or its id."
    )


def missing_name() -> str:
    return "The incident needs a name of 2 to 64 characters after the date."


def test_usage() -> str:
    return (
        "Usage: `/incident test create-incident <playbook> <YYYY-MM-DD> <name…>` or"
        " `/incident test bulk-data <ongoing> <ended> <begin YYYY-MM-DD> <end YYYY-MM-DD> [seed]`"
    )


def created_table(rows: Sequence[tuple[str, int, str]], seed: int | None = None) -> str:
    lines = [
        f"Created {len(rows)} test incident{'s' if len(rows) != 1 else ''}"
        + (f" (seed {seed})" if seed is not None else "")
        + ":",
        "| Name | Created | Status |",
        "|---|---|---|",
    ]
    lines += [f"| {cell(n)} | {timestamp(at)} | {status} |" for n, at, status in rows]
    return "\n".join(lines)


def bulk_arguments() -> str:
    return "bulk-data takes 4 or 5 arguments: ongoing, ended, begin, end and an optional seed."
