"""Every length limit warroom checks, in one place, with where each number comes from.

A limit is counted in characters (Unicode code points, what Mattermost's Go code calls runes
and Python's ``len`` counts). Where a value ends up in Mattermost the limit is Mattermost's own
(source cited, Mattermost server 5.36); where it is edited in a dialog field, it is the most
that field holds, so that whatever warroom accepted on one path (``playbooks.yaml``, the chat
dialogs, the command line, an import) can be shown and edited on every other path. Every path
checks with :meth:`Limit.check` / :meth:`Limit.fits`; the words for each limit live in
``bot/render/limits.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InputError

# ---- Mattermost's own limits --------------------------------------------------------------

# model/channel.go: CHANNEL_DISPLAY_NAME_MAX_RUNES, CHANNEL_NAME_MIN_LENGTH/MAX_LENGTH,
# CHANNEL_HEADER_MAX_RUNES.
CHANNEL_DISPLAY_NAME_MAX = 64
CHANNEL_NAME_MIN, CHANNEL_NAME_MAX = 2, 64
CHANNEL_HEADER_MAX = 1024
# model/team.go: TEAM_NAME_MIN_LENGTH/TEAM_NAME_MAX_LENGTH; model/command.go:
# MIN_TRIGGER_LENGTH/MAX_TRIGGER_LENGTH.
TEAM_NAME_MIN, TEAM_NAME_MAX = 2, 64
COMMAND_TRIGGER_MAX = 128
# model/post.go: POST_MESSAGE_MAX_RUNES_V2 (65535 bytes / 4); also the most a person can type
# in the message box, slash commands included (the server's MaxPostSize).
POST_MESSAGE_MAX = 16_383
# What an interactive dialog field holds: a one-line text field 150, a textarea 3000
# (model/integration_action.go DialogElement; newer servers check defaults against these:
# TextFieldMaxLength, TextareaFieldMaxLength).
DIALOG_TEXT_MAX = 150
DIALOG_TEXTAREA_MAX = 3000


@dataclass(frozen=True)
class Limit:
    """A length limit: ``least`` to ``most`` characters of the text ``key`` names.

    ``key`` is also the render key of its words (``bot/render/limits.py``); :attr:`reason` is
    the :class:`~bot.errors.InputError` reason of a text outside the limit.
    """

    key: str
    most: int
    least: int = 0

    @property
    def reason(self) -> str:
        return f"{self.key}_length"

    def fits(self, text: str) -> bool:
        """True when ``text`` has ``least`` to ``most`` characters."""
        return self.least <= len(text) <= self.most

    def check(self, text: str, *, field: str = "") -> str:
        """``text`` itself; :class:`InputError` (:attr:`reason`, ``field``) when it does not fit."""
        if not self.fits(text):
            raise InputError(self.reason, field=field)
        return text


# ---- what warroom limits, and why these numbers -------------------------------------------

# The incident name is the channel's display name; its URL name is derived (bot/domain/naming).
INCIDENT_NAME = Limit("incident_name", CHANNEL_DISPLAY_NAME_MAX, least=2)
# The incident description becomes the channel header.
INCIDENT_DESCRIPTION = Limit("incident_description", CHANNEL_HEADER_MAX)
CHANNEL_NAME = Limit("channel_name", CHANNEL_NAME_MAX, least=CHANNEL_NAME_MIN)
# Stage and task titles are edited in one-line dialog fields (the task dialog) and shown as
# checklist attachment text; a title a playbook accepts must stay editable in an incident.
STAGE_TITLE = Limit("stage_title", DIALOG_TEXT_MAX, least=1)
TASK_TITLE = Limit("task_title", DIALOG_TEXT_MAX, least=1)
# A task's slash command is edited in a one-line field of the task dialog.
TASK_COMMAND = Limit("task_command", DIALOG_TEXT_MAX)
# A task's description is edited in a textarea of the task dialog.
TASK_DESCRIPTION = Limit("task_description", DIALOG_TEXTAREA_MAX)
# Playbook fields are edited in the playbook dialog (title: a text field; the rest: textareas).
PLAYBOOK_TITLE = Limit("playbook_title", 128, least=1)
PLAYBOOK_DESCRIPTION = Limit("playbook_description", DIALOG_TEXTAREA_MAX)
STATUS_TEMPLATE = Limit("status_template", DIALOG_TEXTAREA_MAX)
# The stages of a playbook as text, in the playbook dialog's textarea.
STAGES_TEXT = Limit("stages_text", DIALOG_TEXTAREA_MAX)
# A one-line dialog field with free text (e.g. the playbook dialog's invite list).
DIALOG_TEXT = Limit("dialog_text", DIALOG_TEXT_MAX)
# A status update is posted as one message, but written in the update dialog's textarea (an
# empty one is refused apart, with its own words).
STATUS_MESSAGE = Limit("status_message", DIALOG_TEXTAREA_MAX)
# A pasted export in the import dialog's textarea.
IMPORT_PASTE = Limit("import_paste", DIALOG_TEXTAREA_MAX)
# An attached export file (warroom's own bound: far larger than any real playbook).
IMPORT_FILE = Limit("import_file", 512 * 1024)
# The text after the trigger of a slash command: at most what the message box takes.
COMMAND_TEXT = Limit("command_text", POST_MESSAGE_MAX)
SEVERITY_LEVEL = Limit("severity_level", 32, least=1)
# A playbook's team in playbooks.yaml is a team URL name ("*": every team).
TEAM_NAME = Limit("team_name", TEAM_NAME_MAX, least=1)
# A slash-command trigger a playbook lets Run use (run_commands: in playbooks.yaml).
COMMAND_TRIGGER = Limit("command_trigger", COMMAND_TRIGGER_MAX, least=1)

ALL: tuple[Limit, ...] = (
    INCIDENT_NAME, INCIDENT_DESCRIPTION, CHANNEL_NAME, STAGE_TITLE, TASK_TITLE, TASK_COMMAND,
    TASK_DESCRIPTION, PLAYBOOK_TITLE, PLAYBOOK_DESCRIPTION, STATUS_TEMPLATE, STAGES_TEXT,
    DIALOG_TEXT, STATUS_MESSAGE, IMPORT_PASTE, IMPORT_FILE, COMMAND_TEXT, SEVERITY_LEVEL,
    TEAM_NAME, COMMAND_TRIGGER,
)  # fmt: skip
