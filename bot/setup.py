"""``warroom setup``: provision the bot, its token and ``/incident`` with an admin's token.

Idempotent: a second run finds the bot, keeps a token that still works, updates the
command instead of creating a duplicate, and keeps the signing key. Expected failures
raise :class:`SetupError` with a one-line message; nothing here prints a traceback.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from mattermostautodriver import AsyncTypedDriver
from mattermostautodriver.exceptions import InvalidMattermostError, MattermostError

from bot.log import get_logger
from bot.render import setup as texts
from bot.setup_checks import (
    ProbeListener,
    Resolve,
    ServiceSettings,
    allow_list_problem,
    blocking_problems,
    parse_config,
    system_resolve,
)
from bot.store.db import CANNOT_OPEN, Database
from bot.store.installation import Installation, InstallationStore
from bot.transport.mattermost_client import driver_options

log = get_logger(__name__)

TRIGGER = "incident"
ADMIN_ROLE = "system_admin"
HTTP_TIMEOUT = 10.0


class SetupError(Exception):
    """An expected failure, with a one-line message for the admin."""


@dataclass
class SetupReport:
    bot_user_id: str = ""
    bot_username: str = ""
    bot_created: bool = False
    token_created: bool = False
    team_ids: dict[str, str] = field(default_factory=dict)  # team name -> id
    commands: dict[str, str] = field(default_factory=dict)  # team name -> created | updated
    ephemeral: bool = False  # the bot holds system_admin and may post ephemeral messages
    reachable: bool | None = None  # Mattermost called /incident at the public URL (None: unchecked)
    done: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


async def run_setup(
    *,
    mattermost_url: str,
    admin_token: str,
    teams: list[str],
    public_url: str,
    db_path: Path,
    bot_username: str = "warroom",
    grant_ephemeral: bool | None,
    out: Callable[[str], None],
    listen: tuple[str, int] | None = None,
    probe: bool = True,
    resolve: Resolve = system_resolve,
) -> SetupReport:
    """Provision warroom on the server at ``mattermost_url`` with a system admin's token.

    Reads the server configuration first and refuses (:class:`SetupError`, one line) when it
    stops provisioning; then creates or reuses the bot, its token, its team memberships and
    ``/incident`` on each of ``teams``, stores them in ``db_path``, and, unless ``probe`` is
    False, executes ``/incident help`` once as the admin to prove Mattermost reaches
    ``public_url``; if nothing listens on ``listen`` (host, port) meanwhile, a short-lived
    listener answers there. ``report.reachable`` says how that went (None: not checked).
    Every line for the admin goes to ``out``.
    """
    if not teams:
        raise SetupError("name at least one team (--team NAME)")
    try:
        options = driver_options(mattermost_url, admin_token, timeout=HTTP_TIMEOUT)
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    report = SetupReport(bot_username=bot_username)

    def did(line: str) -> None:
        report.done.append(line)
        out(line)

    driver = AsyncTypedDriver(options)
    db = Database(db_path)
    try:
        api = _Api(driver, mattermost_url)
        await _check_admin(api)
        server = await _read_config(api, out)
        team_ids = await _resolve_teams(api, teams)
        report.team_ids = team_ids
        if server is not None:
            exists = await _find_bot(api, bot_username) is not None
            problems = blocking_problems(server, bot_exists=exists)
            if problems:
                raise SetupError(texts.config_blocks(problems))
        try:
            await db.open()
            store = InstallationStore(db)
            installation = await store.load()
        except CANNOT_OPEN as exc:
            raise SetupError(f"cannot open the database {db_path}: {exc}") from None

        bot = await _ensure_bot(api, bot_username, report, did)
        report.bot_user_id = bot["user_id"]
        token = await _ensure_token(api, bot["user_id"], installation, mattermost_url, did)
        report.token_created = token != installation.bot_token
        command_tokens = dict(installation.command_tokens)
        for name, team_id in team_ids.items():
            await _ensure_team_member(api, team_id, name, bot["user_id"], bot_username, did)
            cmd = await _ensure_command(
                api, team_id, name, public_url=public_url, bot_username=bot_username, did=did
            )
            report.commands[name] = cmd.action
            command_tokens[team_id] = cmd.token
        report.ephemeral = await _ensure_roles(
            api, bot["user_id"], bot_username, grant_ephemeral, did
        )
        signing_key = installation.signing_key
        if not signing_key:
            signing_key = secrets.token_urlsafe(32)
            did("generated a signing key for buttons and dialogs")
        await store.save(
            Installation(
                bot_user_id=bot["user_id"],
                bot_token=token,
                signing_key=signing_key,
                command_tokens=command_tokens,
                public_url=public_url.rstrip("/"),
            )
        )
        did(f"saved the installation to {db_path}")
        blocked = await _allow_list(public_url, server, resolve)
        if probe:
            report.reachable = await _probe(
                api,
                team_id=next(iter(team_ids.values())),
                tokens=list(command_tokens.values()),
                public_url=public_url.rstrip("/"),
                listen=listen,
                out=out,
                known_cause=blocked,
            )
    finally:
        await db.close()
        await driver.close()

    out("")
    out(texts.RIGHTS_HEADING)
    for line in texts.rights_explained(
        bot_username, report.team_ids, system_admin=report.ephemeral
    ):
        out(f"  - {line}")
    report.todo = _todo(public_url, blocked, report.reachable)
    if report.todo:
        out("")
        out("Still to do / to know:")
        for line in report.todo:
            out(f"  - {line}")
    log.info(
        "setup_done",
        bot_user_id=report.bot_user_id,
        bot_created=report.bot_created,
        token_created=report.token_created,
        teams=sorted(report.team_ids),
    )
    return report


# ---- REST calls with errors turned into SetupError ----------------------------------
class _Api:
    def __init__(self, driver: Any, url: str) -> None:
        self.driver = driver
        self.url = url

    async def call(
        self, what: str, fn: Callable[[], Awaitable[Any]], *, expect: Collection[int] = ()
    ) -> Any:
        """Run one REST call. MattermostErrors with a status in ``expect`` are re-raised."""
        try:
            return await fn()
        except MattermostError as exc:
            if exc.status_code in expect:
                raise
            raise SetupError(
                f"Mattermost refused to {what}: {exc.status_code} {exc.error_id or ''}".rstrip()
            ) from None
        except InvalidMattermostError as exc:
            raise SetupError(
                f"{self.url} did not answer like a Mattermost server"
                f" (HTTP {exc.status_code} when trying to {what})"
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            raise SetupError(
                f"cannot reach Mattermost at {self.url}: {type(exc).__name__} {exc}".rstrip()
            ) from None


async def _check_admin(api: _Api) -> None:
    try:
        me = await api.call("check the admin token", api.driver.login, expect=(401,))
    except MattermostError:
        raise SetupError(texts.ADMIN_REFUSED) from None
    if ADMIN_ROLE not in str(me.get("roles", "")).split():
        raise SetupError(
            f"the admin token belongs to @{me.get('username', '?')}, who is not a system admin"
        )


async def _resolve_teams(api: _Api, names: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in dict.fromkeys(names):
        try:
            team = await api.call(
                f"look up team {name!r}",
                lambda n=name: api.driver.teams.get_team_by_name(team_name=n),  # type: ignore[misc]
                expect=(404,),
            )
        except MattermostError:
            raise SetupError(f"unknown team {name!r} (use the team's URL name)") from None
        found[name] = str(team["id"])
    return found


async def _ensure_bot(
    api: _Api, username: str, report: SetupReport, did: Callable[[str], None]
) -> dict[str, Any]:
    bot = await _find_bot(api, username)
    if bot is None:
        try:
            bot = await api.call(
                f"create the bot @{username}",
                lambda: api.driver.bots.create_bot(
                    username=username,
                    display_name="warroom",
                    description="Incident management",
                ),
                expect=(400, 403),
            )
        except MattermostError as exc:
            if exc.error_id == "api.bot.create_disabled":  # api4/bot.go createBot, 403
                raise SetupError(texts.config_blocks([texts.BOTS_DISABLED])) from None
            if exc.status_code == 403:
                raise SetupError(
                    f"Mattermost refused to create the bot: 403 {exc.error_id}"
                ) from None
            if exc.error_id == "app.user.save.username_exists.app_error":
                raise SetupError(
                    f"@{username} is taken by a user that is not a bot:"
                    " pick another name with --bot-username"
                ) from None
            raise SetupError(f"Mattermost refused to create the bot: 400 {exc.error_id}") from None
        report.bot_created = True
        did(f"created bot @{username}")
        return dict(bot)
    if bot.get("delete_at"):
        await api.call(
            f"enable the bot @{username}",
            lambda: api.driver.bots.enable_bot(bot_user_id=bot["user_id"]),
        )
        did(f"re-enabled the disabled bot @{username}")
    else:
        did(f"found bot @{username}")
    return bot


async def _find_bot(api: _Api, username: str) -> dict[str, Any] | None:
    page = 0
    while True:
        batch = await api.call(
            "list bots",
            lambda p=page: api.driver.bots.get_bots(  # type: ignore[misc]
                page=p, per_page=200, include_deleted=True
            ),
        )
        for bot in batch:
            if str(bot.get("username", "")).lower() == username.lower():
                return dict(bot)
        if len(batch) < 200:
            return None
        page += 1


async def _ensure_token(
    api: _Api,
    bot_id: str,
    installation: Installation,
    url: str,
    did: Callable[[str], None],
) -> str:
    stored = installation.bot_token
    if stored and installation.bot_user_id == bot_id and await _token_works(url, stored, bot_id):
        did("kept the stored bot token (it still works)")
        return stored
    try:
        created = await api.call(
            "create an access token for the bot",
            lambda: api.driver.users.create_user_access_token(
                user_id=bot_id, description="warroom"
            ),
            expect=(501,),
        )
    except MattermostError:
        raise SetupError(
            "access tokens are disabled: set ServiceSettings.EnableUserAccessTokens"
            " (System Console > Integrations > Integration Management) and run setup again"
        ) from None
    did("created a new bot access token" + (" (the stored one no longer works)" if stored else ""))
    return str(created["token"])


async def _token_works(url: str, token: str, bot_id: str) -> bool:
    driver = AsyncTypedDriver(driver_options(url, token, timeout=HTTP_TIMEOUT))
    try:
        me = await _Api(driver, url).call("check the stored bot token", driver.login, expect=(401,))
    except MattermostError:
        return False
    finally:
        await driver.close()
    return bool(me.get("id") == bot_id)


async def _ensure_team_member(
    api: _Api,
    team_id: str,
    team_name: str,
    bot_id: str,
    bot_username: str,
    did: Callable[[str], None],
) -> None:
    try:
        member = await api.call(
            f"read the bot's membership in team {team_name}",
            lambda: api.driver.teams.get_team_member(team_id=team_id, user_id=bot_id),
            expect=(404,),
        )
    except MattermostError:
        member = None
    if member is not None and not member.get("delete_at"):
        return
    await api.call(
        f"add the bot to team {team_name}",
        lambda: api.driver.teams.add_team_member(team_id=team_id, user_id=bot_id),
    )
    did(f"added @{bot_username} to team {team_name}")


@dataclass(frozen=True)
class _Command:
    action: str
    token: str


async def _ensure_command(
    api: _Api,
    team_id: str,
    team_name: str,
    *,
    public_url: str,
    bot_username: str,
    did: Callable[[str], None],
) -> _Command:
    wanted = {
        "team_id": team_id,
        "trigger": TRIGGER,
        "method": "P",
        "url": public_url.rstrip("/") + "/mattermost/command",
        "auto_complete": True,
        "auto_complete_desc": "Declare, run and wrap up incidents",
        "auto_complete_hint": "[start|end|update|info|list|help…]",
        "display_name": "warroom",
        "description": "Incident management by warroom",
        "username": bot_username,
    }
    existing = await api.call(
        f"list the slash commands of team {team_name}",
        lambda: api.driver.commands.list_commands(team_id=team_id, custom_only=True),
    )
    current = next((c for c in existing if c.get("trigger") == TRIGGER), None)
    if current is not None:
        updated = await api.call(
            f"update /{TRIGGER} on team {team_name}",
            lambda: api.driver.client.put(
                f"/api/v4/commands/{current['id']}", options={**current, **wanted}
            ),
        )
        did(f"updated /{TRIGGER} on team {team_name}")
        return _Command("updated", str(updated.get("token") or current.get("token", "")))
    try:
        created = await api.call(
            f"create /{TRIGGER} on team {team_name}",
            lambda: api.driver.client.post("/api/v4/commands", options=wanted),
            expect=(501,),
        )
    except MattermostError:  # 501 api.command.disabled.app_error (app/command.go)
        raise SetupError(texts.config_blocks([texts.COMMANDS_DISABLED])) from None
    did(f"created /{TRIGGER} on team {team_name}")
    return _Command("created", str(created["token"]))


async def _ensure_roles(
    api: _Api,
    bot_id: str,
    bot_username: str,
    grant: bool | None,
    did: Callable[[str], None],
) -> bool:
    user = await api.call(
        f"read @{bot_username}", lambda: api.driver.users.get_user(user_id=bot_id)
    )
    roles = str(user.get("roles", "")).split()
    has_admin = ADMIN_ROLE in roles
    if grant is None or grant == has_admin:
        return has_admin
    new_roles = "system_user system_admin" if grant else "system_user"
    await api.call(
        f"change the roles of @{bot_username}",
        lambda: api.driver.users.update_user_roles(user_id=bot_id, roles=new_roles),
    )
    if grant:
        did(texts.granted_admin(bot_username))
    else:
        did(texts.removed_admin(bot_username))
    return grant


# ---- reading the server's configuration, proving reachability ------------------------
async def _read_config(api: _Api, out: Callable[[str], None]) -> ServiceSettings | None:
    """The server's ServiceSettings, or None (said to the admin) when they cannot be read."""
    try:
        data = await api.call(
            "read the server configuration",
            lambda: api.driver.client.get("/api/v4/config"),
            expect=(403, 404, 501),
        )
        return parse_config(data)
    except MattermostError as exc:
        out(texts.config_unreadable(exc.status_code))
    except ValueError:
        out(texts.config_unreadable("something else than a configuration"))
    return None


async def _probe(
    api: _Api,
    *,
    team_id: str,
    tokens: list[str],
    public_url: str,
    listen: tuple[str, int] | None,
    out: Callable[[str], None],
    known_cause: str | None = None,
) -> bool | None:
    """Execute ``/incident help`` once as the admin in the team's town square, so that
    Mattermost calls ``public_url``; True when it answered, False when Mattermost could
    not reach it, None when the check could not run. ``known_cause`` (what the server's
    configuration already shows will stop the call) is named when the call fails."""
    try:
        channel = await api.call(
            "find the town square",
            lambda: api.driver.channels.get_channel_by_name(
                team_id=team_id, channel_name="town-square"
            ),
            expect=(403, 404),
        )
    except MattermostError:
        out(texts.probe_skipped("the team has no town-square channel to run /incident in"))
        return None
    listener = ProbeListener(listen[0], listen[1], tokens) if listen else None
    running = listener is None or not await listener.start()
    try:
        await api.call(
            "run /incident once",
            lambda: api.driver.commands.execute_command(
                channel_id=str(channel["id"]), command=f"/{TRIGGER} help"
            ),
            expect=(400, 403, 404, 500, 501, 502, 503, 504),
        )
    except MattermostError as exc:
        out(texts.probe_failed(public_url, known_cause or texts.probe_refused(exc.status_code)))
        return False
    finally:
        if listener is not None:
            await listener.close()
    out(texts.probe_ok(public_url, running=running))
    return True


# ---- what the admin still has to do -------------------------------------------------
async def _allow_list(
    public_url: str, server: ServiceSettings | None, resolve: Resolve
) -> str | None:
    """What the server's allow list says against calling ``public_url`` (None: nothing, or
    the configuration could not be read)."""
    if server is None:
        return None
    host = urlsplit(public_url).hostname or ""
    return await allow_list_problem(server, host, resolve=resolve)


def _todo(public_url: str, blocked: str | None, reachable: bool | None) -> list[str]:
    """Only what is actually missing (from the server's configuration and the probe)."""
    todo: list[str] = [blocked] if blocked is not None else []
    if reachable is False and not todo:
        todo.append(texts.probe_failed(public_url.rstrip("/"), "see the Mattermost server log"))
    todo.append(
        "start warroom with the same WARROOM_DB_PATH: the bot token, command tokens and"
        " signing key are stored there"
    )
    todo.append(texts.RUNNING_PICKS_UP)
    return todo
