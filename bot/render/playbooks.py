"""Everything warroom says about playbooks, and the playbook dialogs as Mattermost JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.domain import limits
from bot.domain.models import Playbook
from bot.render.format import cell, channel_link, code, code_block, markdown, name, quote
from bot.render.limits import REASONS as LIMIT_REASONS
from bot.render.views import Names
from bot.services.playbook_text import LineProblem

TEXTAREA_MAX = limits.DIALOG_TEXTAREA_MAX
TEXT_MAX = limits.DIALOG_TEXT_MAX
TITLE_MAX = limits.PLAYBOOK_TITLE.most
SHOW_STAGES_MAX = 12_000  # a post holds 16383 characters
REMINDER_OPTIONS = (
    ("No reminder", "0"),
    ("15 minutes", "15"),
    ("30 minutes", "30"),
    ("1 hour", "60"),
    ("4 hours", "240"),
    ("24 hours", "1440"),
)

# ---- the built-in template (its text is what users start from) ----------------------------

TEMPLATE_VALUE = "template"
TEMPLATE_TITLE = "Incident Management Playbook"
TEMPLATE_DESCRIPTION = "A general incident response process: triage, investigate, resolve."
TEMPLATE_STATUS = "**Impact:** \n**What we know:** \n**Next steps:** "
TEMPLATE_STAGES = """\
## Triage
- Announce incident type and resources
- Acknowledge alert
- Get alert info
  Gather what the alert says: source, time, affected service, current values.
- Invite escalators
- Determine priority
- Update alert priority
- Create a ticket
- Find out who is on call
- Announce incident
- Invite on-call lead
## Investigation
- Perform initial investigation
- Escalate to other on-call members
- Escalate to other engineering teams
## Resolution
- Close alert
- End the incident | /incident end
- Schedule a post-mortem
- Record post-mortem action items
- Update playbook with learnings
- Export channel message history
- Archive this channel"""

# ---- error reasons (merged into messages.error_text) ----------------------------------------

REASONS: dict[str, str] = {
    "playbook_from_file": (
        "That playbook comes from `playbooks.yaml` and is read-only in chat: change it in the"
        " file (an admin then runs `/incident playbook reload`)."
    ),
    "not_playbook_member": "Only members of that playbook (and system admins) can change it.",
    "guest_cannot_author": "Guests can't create or import playbooks.",
    "ambiguous_playbook": (
        "That name matches several playbooks; write more of it, or quote the whole title"
        ' (e.g. `"Service outage"`). Matches:'
    ),
    "duplicate_title": "A playbook with this title already exists in this team.",
    "last_member": "A playbook needs at least one member; add someone else first.",
    "unknown_user": "There is no user named",
    "user_not_in_team": "This user is not a member of this team:",
    "broadcast_not_visible": (
        "You or I can't see that channel in this team; pick one you can read"
        " (a private one needs @warroom in it too)."
    ),
    "bad_reminder": "Pick one of the offered reminder intervals.",
    "admin_only": "Only system admins can do that.",
    "unbalanced_quote": 'A quote is not closed: write the title as `"Service outage"`.',
    "members_action": "Say `add` or `remove`, then the @users.",
    "too_long_to_edit": (
        f"The stages of that playbook are longer than the {TEXTAREA_MAX} characters a dialog"
        " field holds: export it (`/incident playbook export`) and manage it in `playbooks.yaml`."
    ),
}

_LINE_REASONS = {
    "heading_level": "a stage heading is `## Title`, with exactly two #",
    "task_before_stage": "a task must come after a `## Stage title` line",
    "two_bars": "only one | per task, before its slash command (write \\| for a literal |)",
    "stage_title_missing": "the stage has no title: write `## Stage title`",
    "task_title_missing": "the task has no title: write `- Task title`",
    "command_slash": "after | comes the task's slash command: one line that starts with /",
    "description_without_task": "an indented line is a task description: put it under a task",
    "unknown_line": (
        "expected `## Stage`, `- Task | /optional-command`, or an indented description line"
    ),
}

# Mattermost shows at most 150 bytes of help text under a dialog field.
FORMAT_HELP = "`## Stage` per stage, `- Task | /command` per task, indented lines describe it."


def text_problems(problems: Sequence[LineProblem]) -> str:
    parts = []
    for p in problems:
        where = f"Line {p.line}: " if p.line else ""
        said = _LINE_REASONS.get(p.reason) or LIMIT_REASONS.get(p.reason, "not valid")
        parts.append(where + said)
    return " · ".join(parts)


# ---- replies -----------------------------------------------------------------------------

HELP_ENTRIES = (
    ("list", "the playbooks you may use in this team"),
    ("show <name>", "a playbook's settings, and its stages in the editable line format"),
    ("create", "a new playbook (blank, or from the built-in template)"),
    ("edit <name>", "change a playbook you are a member of"),
    ("delete <name>", "delete it (incidents already started keep their copy)"),
    ("members <name> [add|remove @user…]", "who may use and edit it"),
    ("export <name>", "the playbook as YAML for `playbooks.yaml`"),
    ("import", "a playbook exported by Mattermost Playbooks (JSON) or by warroom (YAML)"),
    ("reload", "admins: re-read `playbooks.yaml`"),
)


def playbook_help(unknown: str = "") -> str:
    lines = [f"I don't know {code(unknown)}." if unknown else ""]
    lines = [line for line in lines if line] + ["**Playbooks** — `/incident playbook …`:"]
    lines += [f"- `{usage}` — {text}" for usage, text in HELP_ENTRIES]
    lines.append(
        'Name a playbook by its title (quote titles with spaces: `"Service outage"`), by the'
        " start of its title when only one matches (`serv`), or by its id."
    )
    return "\n".join(lines)


def _quoted(pb: Playbook) -> str:
    """The title as the command line takes it: in double quotes."""
    return f'"{pb.title}"'


def _who(pb: Playbook) -> str:
    members = f"{len(pb.member_ids)} member{'s' if len(pb.member_ids) != 1 else ''}"
    return f"{members}, whole team" if pb.team_wide else members


def playbook_list(playbooks: Sequence[Playbook], editable: set[str]) -> str:
    if not playbooks:
        return (
            "You have no playbook you may use in this team. Create one with"
            " `/incident playbook create`, or ask a playbook's member to add you."
        )
    lines = ["| Playbook | Stages | Tasks | Who | Source |", "|---|---|---|---|---|"]
    for pb in playbooks:
        source = "playbooks.yaml" if pb.source == "file" else "chat"
        if pb.id in editable:
            source += ", you can edit"
        tasks = sum(len(s.tasks) for s in pb.stages)
        lines.append(f"| {cell(pb.title)} | {len(pb.stages)} | {tasks} | {_who(pb)} | {source} |")
    return "\n".join(lines)


def reminder_label(minutes: int | None) -> str:
    for label, value in REMINDER_OPTIONS:
        if value == str(minutes or 0):
            return label
    return f"{minutes} minutes"


def _broadcast_label(broadcast: str | None) -> str:
    if broadcast is None:
        return "a channel you can't read"
    return channel_link(broadcast) if broadcast else "none"


def playbook_show(
    pb: Playbook, *, names: Names, broadcast: str | None, stages_text: str, editable: bool
) -> str:
    """``playbook show``: ``broadcast`` is the channel's URL name, ``""`` for none, ``None``
    for one the viewer may not read (named to nobody else)."""
    if pb.source == "file":
        origin = "_From `playbooks.yaml`: read-only in chat._"
    elif editable:
        origin = f"_Created in chat; edit with {code(f'/incident playbook edit {_quoted(pb)}')}._"
    else:
        origin = "_Created in chat; only its members can edit it._"
    invite = ", ".join(names.at(u) for u in pb.invite_user_ids) or "nobody"
    members = ", ".join(names.at(u) for u in pb.member_ids) or "none (system admins only)"
    lines = [
        f"### {name(pb.title)}",
        origin,
        f"**Description:** {markdown(pb.description) if pb.description else '—'}",
        f"**Incident channel:** {'private' if pb.private_channel else 'public'}",
        f"**Broadcast channel:** {_broadcast_label(broadcast)}",
        f"**Reminder default:** {reminder_label(pb.reminder_minutes)}",
        f"**Invited when an incident starts:** {invite}",
        f"**Members:** {members}"
        + (" · **team-wide:** everyone in the team may use it" if pb.team_wide else ""),
        f"**Id:** `{pb.id}`",
    ]
    if pb.status_template:
        lines.append("**Status update template:**\n" + quote(pb.status_template, 3000))
    if len(stages_text) > SHOW_STAGES_MAX:
        lines.append(
            f"**Stages and tasks:** {len(pb.stages)} stages, too long to show here; get them with"
            f" {code(f'/incident playbook export {_quoted(pb)}')}."
        )
        return "\n".join(lines)
    lines.append("**Stages and tasks** (copy, change, paste back into the edit dialog):")
    lines.append(code_block(stages_text))
    return "\n".join(lines)


def created(pb: Playbook) -> str:
    return (
        f"Created playbook **{name(pb.title)}**; you are its member. Share it with"
        f" {code(f'/incident playbook members {_quoted(pb)} add @user')}; start an incident with"
        " `/incident start`."
    )


def updated(pb: Playbook) -> str:
    return (
        f"Saved playbook **{name(pb.title)}**. Incidents already started keep their own copy;"
        " the change applies to new incidents."
    )


def deleted(pb: Playbook) -> str:
    return f"Deleted playbook **{name(pb.title)}**. Incidents started from it are unchanged."


def members_list(pb: Playbook, names: Names) -> str:
    who = ", ".join(names.at(u) for u in pb.member_ids) or "none (system admins only)"
    extra = " It is team-wide: everyone in the team may use it." if pb.team_wide else ""
    return f"Members of **{name(pb.title)}**: {who}.{extra}"


def members_changed(pb: Playbook, names: Names, changed: Sequence[str], *, add: bool) -> str:
    if not changed:
        return ("All of them are already members." if add else "None of them is a member.") + (
            " " + members_list(pb, names)
        )
    who = ", ".join(names.at(u) for u in changed)
    verb = "Added" if add else "Removed"
    return f"{verb} {who}. " + members_list(pb, names)


def delete_intro(pb: Playbook) -> str:
    return (
        f"Delete the playbook **{name(pb.title)}**? Incidents already started from it keep their"
        " stages and tasks."
    )


def reload_ok(file: str, playbooks: Sequence[Playbook]) -> str:
    return f"Reloaded {code(file)}: {len(playbooks)} playbook(s) in force."


def reload_failed(file: str, problems: Sequence[str]) -> str:
    lines = [f"{code(file)} was refused; the last good set of playbooks stays in force:"]
    lines += [f"- {code(p)}" for p in problems[:20]]
    if len(problems) > 20:
        lines.append(f"- … and {len(problems) - 20} more")
    return "\n".join(lines)


# ---- import and export ---------------------------------------------------------------------

_IMPORT_REASONS = {
    "import_empty": "There is nothing to import.",
    "import_too_big": "That file is too large to be a playbook (512 KB at most).",
    "import_bad_json": "That is not valid JSON (nor a warroom YAML export).",
    "import_not_playbook": (
        "That JSON is not a playbook export: a playbook has a `title` and a `checklists` list."
    ),
    "import_invalid": "That playbook can't be imported:",
    "import_one_playbook": "Import one playbook at a time: the YAML must list exactly one.",
    "import_file_unreadable": "I could not read that file.",
}


def import_failed(reason: str, problems: Sequence[str], source: str = "") -> str:
    text = _IMPORT_REASONS.get(reason, "That can't be imported.")
    if source:
        text = f"{code(source)}: {text}"
    if problems:
        text += "\n" + "\n".join(f"- {code(p)}" for p in problems[:15])
    return text + "\nNothing was imported."


def import_field_error(reason: str, problems: Sequence[str]) -> str:
    text = _IMPORT_REASONS.get(reason, "That can't be imported.")
    return " ".join([text, *problems[:5]])


class _Draft(Protocol):
    unmapped: list[str]
    notes: list[tuple[str, str]]


class ImportOutcome(Protocol):
    """What the playbook service reports after an import (services.playbooks.ImportReport)."""

    @property
    def draft(self) -> _Draft: ...
    @property
    def playbook(self) -> Playbook | None: ...
    @property
    def unknown_users(self) -> list[str]: ...
    @property
    def unknown_channels(self) -> list[str]: ...


def imported(report: ImportOutcome, source: str = "") -> str:
    """``source`` is the file name; empty for text pasted in the dialog."""
    pb = report.playbook
    assert pb is not None
    tasks = sum(len(s.tasks) for s in pb.stages)
    origin = code(source) if source else "the pasted text"
    lines = [
        f"Imported **{name(pb.title)}** from {origin}: {len(pb.stages)} stage(s),"
        f" {tasks} task(s); you are a member. Review it with"
        f" {code(f'/incident playbook show {_quoted(pb)}')}."
    ]
    if report.draft.unmapped:
        lines.append(
            "No equivalent in warroom, not imported: "
            + ", ".join(code(u) for u in report.draft.unmapped)
        )
    if report.unknown_users:
        lines.append(
            "Users not found in this team, left out: "
            + ", ".join(code(u) for u in report.unknown_users)
        )
    if report.unknown_channels:
        lines.append(
            "Broadcast channel not found in this team, left out: "
            + ", ".join(code(c) for c in report.unknown_channels)
        )
    for key, detail in report.draft.notes:
        if key == "file_only":
            keys = ", ".join(code(k) for k in detail.split(","))
            lines.append(
                f"Only `playbooks.yaml` may set {keys}: not imported"
                " (**Run** hands this playbook's commands to whoever clicks it)."
            )
        if key == "reminder_rounded":
            had, got = detail.split("|")
            lines.append(
                f"Reminder default of {had} minutes rounded to {reminder_label(int(got))}."
            )
    return "\n".join(lines)


def import_no_file() -> str:
    return (
        "Paste the exported playbook in the dialog — or attach the `.json` (or warroom `.yaml`)"
        " file to a message in this channel and run `/incident playbook import` again."
    )


def import_channel_unreadable() -> str:
    return (
        "I can't see files attached in this channel (I am not a member of it). Paste the"
        " exported playbook in the dialog — or attach the `.json` (or warroom `.yaml`) file to"
        " a direct message to me and run `/incident playbook import` there."
    )


def exported(pb: Playbook, text: str) -> str:
    return (
        f"**{name(pb.title)}** as `playbooks.yaml` accepts it — add it to the file, or change"
        " the title and `/incident playbook import` it as a new playbook:\n"
        + code_block(text, "yaml")
    )


def exported_as_file(pb: Playbook) -> str:
    return (
        f"**{name(pb.title)}** exported as YAML; it is too long for a message, so I sent it to"
        " you as a file in our direct messages."
    )
