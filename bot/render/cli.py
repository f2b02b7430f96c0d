"""What ``warroom --help`` and each subcommand's ``--help`` say: the environment variables
it reads, with an example."""

from __future__ import annotations

# Every variable a subcommand may read, with its meaning (the README's Configuration table
# says the same at more length).
ENV: dict[str, str] = {
    "WARROOM_MATTERMOST_URL": "Mattermost base URL, no sub-path (default http://localhost:8065)",
    "WARROOM_ADMIN_TOKEN": "a system admin's personal access token (setup only)",
    "WARROOM_PUBLIC_URL": "how Mattermost reaches warroom, e.g. http://warroom:8080",
    "WARROOM_DB_PATH": "SQLite database file (default warroom.db)",
    "WARROOM_LISTEN_HOST": "address the HTTP server listens on (default 0.0.0.0)",
    "WARROOM_LISTEN_PORT": "port the HTTP server listens on (default 8080)",
    "WARROOM_BOT_TOKEN": "the bot's token (default: the one setup stored)",
    "WARROOM_COMMAND_TOKENS": "slash-command tokens, comma separated (default: stored)",
    "WARROOM_SIGNING_KEY": "HMAC key for buttons and dialogs (default: stored)",
    "WARROOM_PLAYBOOKS_FILE": "playbooks as code (default playbooks.yaml)",
    "WARROOM_LOG_FORMAT": "json, console or auto (console on a terminal)",
    "WARROOM_LOG_LEVEL": "debug, info, warning or error",
    "WARROOM_REQUEST_TIMEOUT": "seconds per Mattermost REST call (default 10)",
    "WARROOM_TESTING_ENABLED": "true enables /incident test … for admins",
    "WARROOM_START_EMOJI": "reaction that offers to start an incident (rotating_light)",
    "WARROOM_TIMELINE_EMOJI": "reaction that adds a post to the timeline (pushpin)",
    "WARROOM_RUN_COMMANDS": "triggers the bot may run itself for a task's Run (e.g. echo,jira)",
    "WARROOM_SEVERITY_LEVELS": "severity levels, most severe first (SEV1,SEV2,SEV3,SEV4)",
}

READS: dict[str, list[str]] = {
    "run": [
        "WARROOM_MATTERMOST_URL",
        "WARROOM_DB_PATH",
        "WARROOM_PUBLIC_URL",
        "WARROOM_LISTEN_HOST",
        "WARROOM_LISTEN_PORT",
        "WARROOM_BOT_TOKEN",
        "WARROOM_COMMAND_TOKENS",
        "WARROOM_SIGNING_KEY",
        "WARROOM_PLAYBOOKS_FILE",
        "WARROOM_LOG_FORMAT",
        "WARROOM_LOG_LEVEL",
        "WARROOM_REQUEST_TIMEOUT",
        "WARROOM_TESTING_ENABLED",
        "WARROOM_START_EMOJI",
        "WARROOM_TIMELINE_EMOJI",
        "WARROOM_RUN_COMMANDS",
        "WARROOM_SEVERITY_LEVELS",
    ],
    "setup": [
        "WARROOM_MATTERMOST_URL",
        "WARROOM_ADMIN_TOKEN",
        "WARROOM_PUBLIC_URL",
        "WARROOM_DB_PATH",
        "WARROOM_LISTEN_HOST",
        "WARROOM_LISTEN_PORT",
    ],
    "check-config": [
        "WARROOM_PLAYBOOKS_FILE",
        "WARROOM_MATTERMOST_URL",
        "WARROOM_BOT_TOKEN",
        "WARROOM_DB_PATH",
    ],
}

EXAMPLES: dict[str, str] = {
    "run": "WARROOM_MATTERMOST_URL=https://chat.example.com WARROOM_DB_PATH=/data/warroom.db"
    " warroom run",
    "setup": "WARROOM_MATTERMOST_URL=https://chat.example.com"
    " WARROOM_PUBLIC_URL=http://warroom:8080 warroom setup --admin-token-stdin --team acme"
    " < admin-token.txt",
    "check-config": "WARROOM_PLAYBOOKS_FILE=/etc/warroom/playbooks.yaml warroom check-config"
    " --online",
}

DESCRIPTION = {
    "run": "Run warroom: the HTTP server for Mattermost's callbacks and the event stream.",
    "setup": "Provision the bot account, its token and /incident on each team, with a system"
    " admin's token; check the server's configuration and that Mattermost reaches"
    " WARROOM_PUBLIC_URL. Exit status 3: provisioned, but Mattermost could not reach warroom.",
    "check-config": "Validate playbooks.yaml offline; with --online, also resolve teams,"
    " users and channels against the server as a reload does.",
}


def epilog(command: str) -> str:
    """The environment variables ``command`` reads, then an example."""
    width = max(len(name) for name in READS[command])
    lines = ["environment variables:"]
    lines += [f"  {name.ljust(width)}  {ENV[name]}" for name in READS[command]]
    lines += ["", "example:", f"  {EXAMPLES[command]}"]
    return "\n".join(lines)


def playbooks_ok(file: str, count: int, *, online: bool) -> str:
    what = "schema and names resolved on the server" if online else "schema OK"
    return f"{file}: {count} playbook(s), {what}"
