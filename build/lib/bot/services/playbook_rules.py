"""Who may see and change which playbook, what the dialogs set, and how names are matched.

Pure rules, no I/O: the playbook service applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.models import Playbook, StageTemplate


@dataclass(frozen=True)
class Caller:
    """Who is asking, in which team: what they may see and change follows from this."""

    user_id: str
    team_id: str
    is_admin: bool
    in_team: bool
    is_guest: bool = False

    def sees(self, pb: Playbook) -> bool:
        """Members see (and may start with) a playbook; team-wide ones the whole team."""
        if self.is_admin:
            return True
        return self.in_team and (pb.team_wide or self.user_id in pb.member_ids)

    def edits(self, pb: Playbook) -> bool:
        """Only members (and system admins) change a playbook, team-wide or not."""
        return self.is_admin or (self.in_team and self.user_id in pb.member_ids)


@dataclass(frozen=True)
class PlaybookDraft:
    """What the create/edit dialog sets. Members are managed apart (``members`` subcommand)."""

    title: str
    description: str
    private: bool
    broadcast_channel_id: str
    reminder_minutes: int
    status_template: str
    invite_user_ids: tuple[str, ...]
    team_wide: bool
    stages: tuple[StageTemplate, ...]

    def apply(self, pb: Playbook) -> Playbook:
        return pb.model_copy(
            update={
                "title": self.title,
                "description": self.description,
                "private_channel": self.private,
                "broadcast_channel_id": self.broadcast_channel_id,
                "reminder_minutes": self.reminder_minutes or None,
                "status_template": self.status_template,
                "invite_user_ids": self.invite_user_ids,
                "team_wide": self.team_wide,
                "stages": self.stages,
            }
        )


def match(playbooks: list[Playbook], ref: str) -> list[Playbook]:
    """Exact id or title first, else every title that starts with ``ref`` (case-insensitive)."""
    key = " ".join(ref.split()).lower()
    if not key:
        return []
    exact = [pb for pb in playbooks if pb.id == ref.strip() or pb.title.lower() == key]
    if exact:
        return exact[:1]
    return [pb for pb in playbooks if pb.title.lower().startswith(key)]
