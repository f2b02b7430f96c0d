"""What ``warroom setup`` tells the operator about the rights it gives the bot, and why.

Facts from the Mattermost 5.36 server source: a bot created through the API holds only the
``system_user`` role; team membership (``team_user``) lets it create public and private
channels, add team members to channels it belongs to and post in public channels of the team
(api4/post.go createPost falls back to the team's create_post_public); ``POST
/posts/ephemeral`` needs ``create_post_ephemeral``, which only ``system_admin`` holds by
default, and Team Edition cannot add it to any other role (api4/role.go patchRole: without a
license only a short list of permissions may be changed, answering 501
``api.roles.patch_roles.license.error`` otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable

RIGHTS_HEADING = "Rights the bot holds, and why:"
ADMIN_FLAG = "--grant-system-admin"


def rights_explained(bot_username: str, teams: Iterable[str], *, system_admin: bool) -> list[str]:
    """One line per right the bot holds after setup, saying what warroom needs it for."""
    bot = "@" + bot_username
    lines = [
        f"{bot} is a bot account with the ordinary system_user role: it can see only what it"
        " is a member of, plus public channels of its teams.",
        f"an access token for {bot}: warroom calls Mattermost's REST API and websocket as the"
        " bot, never as anyone else.",
    ]
    lines += [
        f"member of team {team}: to create incident channels there, add the people who start"
        " or join incidents to them, and post announcements in public channels of the team."
        for team in teams
    ]
    lines.append(
        "the /incident command (owned by the admin who ran setup): Mattermost calls warroom"
        " with the identity of the person who typed it, and warroom checks that person's own"
        " rights before acting for them."
    )
    if system_admin:
        lines.append(
            f"system_admin role on {bot}: only so it may post ephemeral messages"
            " (create_post_ephemeral); Team Edition cannot grant that permission alone. warroom"
            " never lends these rights to anyone (task commands are handed to the clicker), but"
            f" the token is as powerful as an admin's: run setup with --no-system-admin to"
            " remove the role and use direct messages instead."
        )
    else:
        lines.append(
            f"no system_admin role: {bot} cannot post ephemeral messages, so private answers"
            " that are not direct replies to a command or button reach people as direct"
            f" messages from {bot}. ({ADMIN_FLAG} would grant the role; Team Edition cannot"
            " grant create_post_ephemeral alone.)"
        )
    return lines


def granted_admin(bot_username: str) -> str:
    return f"gave @{bot_username} the system_admin role (you asked, with {ADMIN_FLAG})"


def removed_admin(bot_username: str) -> str:
    return f"removed the system_admin role from @{bot_username}"


# ---- what setup checks on the server (bot/setup_checks.py) ------------------------------
ALLOW_LIST = (
    "ServiceSettings.AllowedUntrustedInternalConnections (System Console > Environment >"
    " Developer > Allow untrusted internal connections)"
)
BOTS_DISABLED = (
    "bot accounts are disabled: turn on ServiceSettings.EnableBotAccountCreation (System"
    " Console > Integrations > Bot Accounts > Enable Bot Account Creation)"
)
COMMANDS_DISABLED = (
    "custom slash commands are disabled: turn on ServiceSettings.EnableCommands (System"
    " Console > Integrations > Integration Management > Enable Custom Slash Commands)"
)
PROBE_ANSWER = "warroom setup: Mattermost reached warroom. You can ignore this message."
PROBE_REFUSED = "warroom setup: this request did not carry the /incident token setup stored."
ARGV_WARNING = (
    "warning: --admin-token puts the token in your shell history and in `ps`; prefer"
    " WARROOM_ADMIN_TOKEN=… or --admin-token-stdin"
)
ASK_FOR_ADMIN = (
    "give a system admin's personal access token: WARROOM_ADMIN_TOKEN=… or --admin-token-stdin"
    " (Profile > Security > Personal Access Tokens)"
)


def config_blocks(problems: list[str]) -> str:
    """One line: the server settings that stop setup, then what to do."""
    return (
        "Mattermost's configuration stops setup: " + "; ".join(problems) + ". Then run setup again."
    )


def config_unreadable(status: int | str) -> str:
    return (
        f"could not read the server configuration (GET /api/v4/config answered {status});"
        " the checks below that need it are skipped"
    )


def unresolved_host(host: str) -> str:
    return (
        f"{host} does not resolve from here; if it resolves to a private or loopback address"
        f" on the Mattermost server, add {host} to {ALLOW_LIST}"
    )


def not_allowed(host: str, addresses: list[str]) -> str:
    shown = ", ".join(addresses)
    return (
        f"{host} ({shown}) is a private or loopback address and not in {ALLOW_LIST}: add"
        f" {host} there, or Mattermost refuses to call warroom"
    )


def probe_ok(public_url: str, *, running: bool) -> str:
    who = "the running warroom" if running else "a short-lived listener of setup"
    return f"Mattermost reached {public_url} (/incident answered by {who})"


def probe_failed(public_url: str, detail: str) -> str:
    return (
        f"Mattermost could NOT reach {public_url}/mattermost/command: {detail}. Fix that"
        " before using /incident (WARROOM_PUBLIC_URL must be an address the Mattermost server"
        " can open)"
    )


# Mattermost answers both causes with the same 401 (app/session.go
# createSessionForUserAccessToken: a person's token is refused while EnableUserAccessTokens
# is off), so the text names both.
ADMIN_REFUSED = (
    "the admin token was rejected (401): use a valid personal access token of a system admin;"
    " if it is one, the server does not allow personal access tokens (System Console >"
    " Integrations > Integration Management > Enable Personal Access Tokens)"
)


def probe_refused(status: int) -> str:
    """Why the probe failed when setup knows no cause: what Mattermost answered, in words."""
    return (
        f"running /incident failed on the server (HTTP {status}): nothing answered there,"
        " or the Mattermost server cannot open that address (its log says which)"
    )


def probe_skipped(reason: str) -> str:
    return f"did not check that Mattermost reaches warroom: {reason}"


RUNNING_PICKS_UP = (
    "if warroom is already running with this database it picks up the new command tokens and"
    " teams by itself (or at once on SIGHUP): no restart needed"
)
