"""The server configuration: ``GET /api/v4/config`` and the settings warroom depends on
(api4/config.go, api4/bot.go, app/command.go, services/httpservice of Mattermost 5.36)."""

from __future__ import annotations

from tests.double.config import ADDRESS_FORBIDDEN, FAKE_SETTING

from .conftest import Seed


async def test_config_is_for_system_admins_only_and_sanitized(seed: Seed) -> None:
    refused = await seed.rest.call(seed.alice, "GET", "/config")
    assert (refused.status, refused.body["id"]) == (403, "api.context.permissions.app_error")
    refused_bot = await seed.rest.call(seed.bot, "GET", "/config")
    assert refused_bot.status == 403
    seed.mm.config.set("ServiceSettings", "EnableCommands", False)
    res = await seed.rest.call(seed.admin, "GET", "/config")
    assert res.status == 200
    service = res.body["ServiceSettings"]
    assert service["EnableCommands"] is False
    assert isinstance(service["AllowedUntrustedInternalConnections"], str)
    assert isinstance(service["EnableBotAccountCreation"], bool)
    assert res.body["SqlSettings"]["DataSource"] == FAKE_SETTING


async def test_bot_creation_disabled_is_refused_after_the_permission_check(seed: Seed) -> None:
    seed.mm.config.set("ServiceSettings", "EnableBotAccountCreation", False)
    by_user = await seed.rest.call(seed.alice, "POST", "/bots", {"username": "pager"})
    assert (by_user.status, by_user.body["id"]) == (403, "api.context.permissions.app_error")
    by_admin = await seed.rest.call(seed.admin, "POST", "/bots", {"username": "pager"})
    assert (by_admin.status, by_admin.body["id"]) == (403, "api.bot.create_disabled")


async def test_commands_disabled_refuses_custom_commands_with_501(seed: Seed) -> None:
    seed.mm.config.set("ServiceSettings", "EnableCommands", False)
    body = {"team_id": seed.team.id, "trigger": "x", "url": "http://8.8.8.8/", "method": "P"}
    created = await seed.rest.call(seed.admin, "POST", "/commands", body)
    assert (created.status, created.body["id"]) == (501, "api.command.disabled.app_error")
    run = await seed.rest.call(
        seed.admin,
        "POST",
        "/commands/execute",
        {"channel_id": seed.town.id, "command": "/incident"},
    )
    assert (run.status, run.body["id"]) == (501, "api.command.disabled.app_error")
    listed = await seed.rest.call(seed.alice, "GET", f"/commands?team_id={seed.team.id}")
    assert "incident" not in [c["trigger"] for c in listed.body]


async def test_integrations_on_internal_addresses_need_the_allow_list(seed: Seed) -> None:
    """A loopback integration is called only when its host (or a CIDR holding its address)
    is listed in AllowedUntrustedInternalConnections, split on spaces or commas."""
    command = {"channel_id": seed.town.id, "command": "/incident"}
    for allow in ("", "10.0.0.0/8", "localhost"):
        seed.mm.config.set("ServiceSettings", "AllowedUntrustedInternalConnections", allow)
        res = await seed.rest.call(seed.alice, "POST", "/commands/execute", command)
        assert (res.status, res.body["id"]) == (
            500,
            "api.command.execute_command.failed.app_error",
        ), allow
        assert ADDRESS_FORBIDDEN in res.body["detailed_error"]
    assert seed.hook.requests == []
    for allow in ("example.org,127.0.0.1", "127.0.0.0/8"):
        seed.mm.config.set("ServiceSettings", "AllowedUntrustedInternalConnections", allow)
        res = await seed.rest.call(seed.alice, "POST", "/commands/execute", command)
        assert res.status == 200, allow
