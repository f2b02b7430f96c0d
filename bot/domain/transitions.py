"""Incident transitions: plain functions of (incident, actor, now) -> (incident, events)."""

from __future__ import annotations

from bot.domain.models import (
    EventKind,
    Incident,
    IncidentStatus,
    Playbook,
    Stage,
    TimelineEvent,
)
from bot.errors import InvalidTransition

Transition = tuple[Incident, list[TimelineEvent]]


def new_incident(
    *,
    incident_id: str,
    playbook: Playbook,
    team_id: str,
    channel_id: str,
    channel_name: str,
    name: str,
    description: str,
    reporter_id: str,
    now: int,
    origin_post_id: str = "",
    severity: str = "",
) -> Transition:
    incident = Incident(
        id=incident_id,
        team_id=team_id,
        channel_id=channel_id,
        channel_name=channel_name,
        name=name,
        description=description,
        playbook_id=playbook.id,
        playbook_title=playbook.title,
        reporter_id=reporter_id,
        commander_id=reporter_id,
        created_at=now,
        stages=tuple(Stage.from_template(s) for s in playbook.stages),
        private_channel=playbook.private_channel,
        broadcast_channel_id=playbook.broadcast_channel_id,
        run_commands=playbook.run_commands,
        reminder_minutes=playbook.reminder_minutes,
        status_template=playbook.status_template,
        origin_post_id=origin_post_id,
        severity=severity,
    )
    event = TimelineEvent(
        kind=EventKind.CREATED,
        at=now,
        actor_id=reporter_id,
        data={"name": name, "playbook": playbook.title},
    )
    return incident, [event]


def end(incident: Incident, *, actor_id: str, now: int) -> Transition:
    if not incident.is_ongoing:
        raise InvalidTransition("already_ended")
    ended = incident.model_copy(update={"status": IncidentStatus.ENDED, "ended_at": now})
    return ended, [TimelineEvent(kind=EventKind.ENDED, at=now, actor_id=actor_id)]


def restart(incident: Incident, *, actor_id: str, now: int) -> Transition:
    if incident.is_ongoing:
        raise InvalidTransition("not_ended")
    if incident.channel_archived:
        raise InvalidTransition("channel_archived")
    restarted = incident.model_copy(update={"status": IncidentStatus.ONGOING, "ended_at": None})
    return restarted, [TimelineEvent(kind=EventKind.RESTARTED, at=now, actor_id=actor_id)]


def change_commander(
    incident: Incident, *, actor_id: str, new_commander_id: str, now: int
) -> Transition:
    if incident.commander_id == new_commander_id:
        raise InvalidTransition("already_commander")
    changed = incident.model_copy(update={"commander_id": new_commander_id})
    event = TimelineEvent(
        kind=EventKind.COMMANDER_CHANGED,
        at=now,
        actor_id=actor_id,
        data={"from": incident.commander_id, "to": new_commander_id},
    )
    return changed, [event]


# ---- following the incident channel (changed by hand in Mattermost) --------------------

CHANNEL_ARCHIVED_REASON = "channel_archived"


def channel_renamed(incident: Incident, *, name: str, display_name: str = "") -> Transition:
    """The channel was renamed in Mattermost: links show the new URL ``~name``, and the
    incident's name is the channel's new ``display_name`` (an empty one changes nothing)."""
    update: dict[str, str] = {}
    if name and name != incident.channel_name:
        update["channel_name"] = name
    if display_name and display_name != incident.name:
        update["name"] = display_name
    if not update:
        return incident, []
    return incident.model_copy(update=update), []


def channel_privacy(incident: Incident, *, private: bool) -> Transition:
    """The channel was converted (public <-> private): who may view the incident follows."""
    if private == incident.private_channel:
        return incident, []
    return incident.model_copy(update={"private_channel": private}), []


def channel_archived(incident: Incident, *, now: int) -> Transition:
    """The channel was archived: nobody can type there any more, so an ongoing incident ends
    (recorded as ended because the channel was archived, by nobody in particular); an ended
    one is only marked. Archiving twice changes nothing."""
    if incident.channel_archived:
        return incident, []
    archived = incident.model_copy(update={"channel_archived": True})
    if not incident.is_ongoing:
        return archived, [TimelineEvent(kind=EventKind.CHANNEL_ARCHIVED, at=now)]
    ended = archived.model_copy(update={"status": IncidentStatus.ENDED, "ended_at": now})
    event = TimelineEvent(kind=EventKind.ENDED, at=now, data={"reason": CHANNEL_ARCHIVED_REASON})
    return ended, [event]


def channel_restored(incident: Incident, *, now: int) -> Transition:
    """The channel was un-archived: the incident stays as it is (ended) and may be restarted."""
    if not incident.channel_archived:
        return incident, []
    restored = incident.model_copy(update={"channel_archived": False})
    return restored, [TimelineEvent(kind=EventKind.CHANNEL_RESTORED, at=now)]
