"""A playbook as ``playbooks.yaml`` text: what ``/incident playbook export`` hands out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from bot.domain.models import Playbook


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, multi-line text as ``|`` blocks: as people write YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def to_yaml(
    playbook: Playbook, *, team_name: str, usernames: Mapping[str, str], broadcast_channel: str
) -> str:
    """``usernames`` maps user ids to names; ids without a name (deleted users) are left out."""
    entry: dict[str, Any] = {"title": playbook.title, "team": team_name}
    if playbook.description:
        entry["description"] = playbook.description
    entry["private"] = playbook.private_channel
    if broadcast_channel:
        entry["broadcast_channel"] = f"~{broadcast_channel}"
    entry["reminder_minutes"] = playbook.reminder_minutes or 0
    if playbook.status_template:
        entry["status_template"] = playbook.status_template
    entry["invite"] = [f"@{usernames[u]}" for u in playbook.invite_user_ids if u in usernames]
    entry["members"] = [f"@{usernames[u]}" for u in playbook.member_ids if u in usernames]
    entry["team_wide"] = playbook.team_wide
    stages: list[dict[str, Any]] = []
    for stage in playbook.stages:
        tasks: list[dict[str, Any]] = []
        for task in stage.tasks:
            item: dict[str, Any] = {"title": task.title}
            if task.description:
                item["description"] = task.description
            if task.command:
                item["command"] = task.command
            tasks.append(item)
        stages.append({"title": stage.title, "tasks": tasks})
    entry["stages"] = stages
    text: str = yaml.dump(
        {"playbooks": [entry]},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text
