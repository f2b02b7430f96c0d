"""The real command line, as an operator runs it: `warroom setup`, then `warroom run`, then SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.__main__ import main
from tests.double import MattermostDouble
from tests.scenarios.harness import free_port

PLAYBOOKS = """
playbooks:
  - title: Outage
    team: acme
    team_wide: true
    stages:
      - title: Triage
        tasks:
          - title: Acknowledge
"""


async def run_cli(*args: str, env: dict[str, str], stdin: str = "") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def wait_ready(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if proc.returncode is not None:
                raise AssertionError("warroom exited early")
            try:
                async with session.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("warroom never became ready")


async def test_setup_then_run_then_sigterm(tmp_path: Path) -> None:
    async with MattermostDouble() as mm:
        team = mm.add_team("acme")
        admin = mm.add_user("admin", teams=[team.id], admin=True)
        alice = mm.add_user("alice", teams=[team.id])
        town = mm.add_channel(team.id, "town-square", members=[admin.id, alice.id])
        port = free_port()
        (tmp_path / "playbooks.yaml").write_text(PLAYBOOKS)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")},
            "WARROOM_MATTERMOST_URL": mm.url,
            "WARROOM_PUBLIC_URL": f"http://localhost:{port}",
            "WARROOM_LISTEN_HOST": "127.0.0.1",
            "WARROOM_LISTEN_PORT": str(port),
            "WARROOM_DB_PATH": str(tmp_path / "warroom.db"),
            "WARROOM_PLAYBOOKS_FILE": str(tmp_path / "playbooks.yaml"),
            "WARROOM_LOG_FORMAT": "json",
        }
        code, out, err = await run_cli(
            "setup", "--team", "acme", env={**env, "WARROOM_ADMIN_TOKEN": admin.token}
        )
        assert code == 0, err
        assert "/incident" in out
        # the probe ran /incident once through Mattermost, answered by setup's own listener
        assert f"Mattermost reached http://localhost:{port}" in out
        assert "--admin-token puts the token" not in err
        bot = mm.user_by_name("warroom")
        assert bot is not None and bot.is_bot
        mm.add_channel(team.id, "ops", members=[bot.id])

        code, _, err = await run_cli("setup", "--admin-token", "wrong", "--team", "acme", env=env)
        assert code == 1 and "warroom setup:" in err and "Traceback" not in err
        assert "--admin-token puts the token in your shell history" in err
        code, out, err = await run_cli(
            "setup", "--admin-token-stdin", "--team", "acme", env=env, stdin=admin.token + "\n"
        )
        assert code == 0 and "kept the stored bot token" in out, err

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}", proc)
            await mm.run_command(alice, town.id, "start", trigger="incident")
            dialog = mm.dialogs(alice.id)[-1]
            assert dialog["url"] == f"http://localhost:{port}/mattermost/dialog"
            playbook = dialog["dialog"]["elements"][0]["options"][0]["value"]
            result = await mm.submit_dialog(
                alice,
                dialog,
                {"playbook": playbook, "name": "From the CLI"},
                channel_id=town.id,
                team_id=team.id,
            )
            assert result == {}
            for _ in range(100):
                channel = mm.channel_by_name(team.id, "from-the-cli")
                if channel is not None and len(mm.posts(channel.id)) >= 3:
                    break
                await asyncio.sleep(0.05)
            assert channel is not None
            proc.send_signal(signal.SIGTERM)
            _, err_bytes = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0
        assert b"warroom_stopping" in err_bytes


async def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")},
        "WARROOM_DB_PATH": str(tmp_path / "w.db"),
    }
    code, _, err = await run_cli("run", env=env)
    assert code == 2
    assert "warroom setup" in err and "Traceback" not in err


async def test_bad_configuration_and_check_config(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")},
        "WARROOM_MATTERMOST_URL": "ftp://nope",
    }
    code, _, err = await run_cli("run", env=env)
    assert code == 2 and "WARROOM_MATTERMOST_URL" in err
    bad = tmp_path / "playbooks.yaml"
    bad.write_text(PLAYBOOKS.replace("title: Acknowledge", "titl: Acknowledge"))
    env = {
        **env,
        "WARROOM_MATTERMOST_URL": "http://localhost:8065",
        "WARROOM_PLAYBOOKS_FILE": str(bad),
    }
    code, _, err = await run_cli("check-config", env=env)
    assert code == 1 and "playbooks[0].stages[0].tasks[0].titl" in err
    bad.write_text(PLAYBOOKS)
    code, out, _ = await run_cli("check-config", env=env)
    assert code == 0 and "1 playbook" in out


def _clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")},
        "WARROOM_DB_PATH": str(tmp_path / "data" / "w.db"),
        **values,
    }


async def test_a_wrong_bot_token_is_one_line_a_non_zero_exit_and_no_database(
    tmp_path: Path,
) -> None:
    """Rule: every start-up failure is one clear line and a non-zero exit, and leaves no
    stray database behind."""
    async with MattermostDouble() as mm:
        env = _clean_env(
            tmp_path, WARROOM_MATTERMOST_URL=mm.url, WARROOM_BOT_TOKEN="revoked0000000000000"
        )
        code, _, err = await run_cli("run", env=env)
    assert code == 2
    [line] = err.strip().splitlines()
    assert "refused the bot token (401: wrong or revoked)" in line
    assert "warroom setup" in line
    assert not (tmp_path / "data").exists()
    # nothing listens there: the same, one line
    env["WARROOM_MATTERMOST_URL"] = f"http://127.0.0.1:{free_port()}"
    code, _, err = await run_cli("run", env={**env, "WARROOM_LOG_FORMAT": "json"})
    assert code == 2
    *logged, line = err.strip().splitlines()
    assert line.startswith("warroom: cannot reach Mattermost at http://127.0.0.1:")
    assert all(entry.startswith("{") for entry in logged)  # the retries, as structured logs
    assert not (tmp_path / "data").exists()


async def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    async with MattermostDouble() as mm:
        team = mm.add_team("acme")
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            env = _clean_env(
                tmp_path,
                WARROOM_MATTERMOST_URL=mm.url,
                WARROOM_BOT_TOKEN=bot.token,
                WARROOM_LISTEN_HOST="127.0.0.1",
                WARROOM_LISTEN_PORT=str(taken.getsockname()[1]),
                WARROOM_LOG_LEVEL="error",
                WARROOM_PLAYBOOKS_FILE=str(tmp_path / "none.yaml"),
            )
            code, _, err = await run_cli("run", env=env)
    assert code == 2
    assert "cannot listen on 127.0.0.1:" in err and "WARROOM_LISTEN_PORT" in err
    assert "Traceback" not in err


async def test_version_and_help_list_the_environment_each_subcommand_reads(
    tmp_path: Path,
) -> None:
    env = _clean_env(tmp_path)
    code, out, _ = await run_cli("--version", env=env)
    assert code == 0 and out.startswith("warroom ")
    for command, needed in (
        ("run", ["WARROOM_MATTERMOST_URL", "WARROOM_BOT_TOKEN", "WARROOM_LISTEN_PORT"]),
        ("setup", ["WARROOM_ADMIN_TOKEN", "WARROOM_PUBLIC_URL", "--admin-token-stdin"]),
        ("check-config", ["WARROOM_PLAYBOOKS_FILE", "--online"]),
    ):
        code, out, _ = await run_cli(command, "--help", env=env)
        assert code == 0
        assert "environment variables:" in out and "example:" in out
        for name in needed:
            assert name in out, (command, name)


async def test_setup_without_an_admin_token_says_where_to_get_one(tmp_path: Path) -> None:
    env = _clean_env(tmp_path, WARROOM_PUBLIC_URL="http://warroom:8080")
    code, _, err = await run_cli("setup", "--team", "acme", env=env)
    assert code == 2 and "WARROOM_ADMIN_TOKEN" in err and "Personal Access Tokens" in err


async def test_check_config_online_reports_every_problem_like_a_reload(tmp_path: Path) -> None:
    async with MattermostDouble() as mm:
        team = mm.add_team("acme")
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        mm.add_user("alice", teams=[team.id])
        file = tmp_path / "playbooks.yaml"
        file.write_text(
            PLAYBOOKS
            + "    invite: ['@alice', '@nobody']\n    broadcast_channel: ~nowhere\n"
            + "  - title: Elsewhere\n    team: gamma\n    members: ['@ghost']\n"
            + "    stages: [{title: S, tasks: [{title: T}]}]\n"
        )
        env = _clean_env(
            tmp_path,
            WARROOM_MATTERMOST_URL=mm.url,
            WARROOM_BOT_TOKEN=bot.token,
            WARROOM_PLAYBOOKS_FILE=str(file),
        )
        code, out, _ = await run_cli("check-config", env=env)
        assert code == 0 and "2 playbook(s), schema OK" in out  # offline: names unchecked
        code, _, err = await run_cli("check-config", "--online", env=env)
        assert code == 1
        problems = [line.split(": ", 1)[1] for line in err.strip().splitlines()]
        assert problems == [
            "playbooks[0].invite[1]: no user @nobody",
            "playbooks[0].broadcast_channel: no channel ~nowhere that the bot can see",
            "playbooks[1].team: no team named 'gamma'",
            "playbooks[1].members[0]: no user @ghost",
        ]
        assert not (tmp_path / "data").exists()  # no database created to check
        file.write_text(PLAYBOOKS)
        code, out, err = await run_cli("check-config", "--online", env=env)
        assert code == 0, err
        assert "1 playbook(s), schema and names resolved on the server" in out


async def test_check_config_rejects_an_empty_file_and_names_the_key_meant(tmp_path: Path) -> None:
    file = tmp_path / "playbooks.yaml"
    env = _clean_env(tmp_path, WARROOM_PLAYBOOKS_FILE=str(file))
    file.write_text("")
    code, _, err = await run_cli("check-config", env=env)
    assert code == 1 and "the file is empty" in err
    file.write_text(PLAYBOOKS.replace("        tasks:", "        taks:"))
    code, _, err = await run_cli("check-config", env=env)
    assert code == 1
    assert "playbooks[0].stages[0].taks: unknown key `taks`; did you mean `tasks`?" in err


async def test_check_config_online_holds_webhooks_to_the_allowed_hosts(tmp_path: Path) -> None:
    """The same refusals as a reload: a target outside loopback and the allowed hosts, a
    secret variable that is not set."""
    async with MattermostDouble() as mm:
        team = mm.add_team("acme")
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        file = tmp_path / "playbooks.yaml"
        file.write_text(
            PLAYBOOKS
            + "    webhooks:\n      - url: http://billing.internal/hook\n"
            + "        events: [started]\n        secret_env: WARROOM_HOOK_SECRET_T\n"
        )
        env = _clean_env(
            tmp_path,
            WARROOM_MATTERMOST_URL=mm.url,
            WARROOM_BOT_TOKEN=bot.token,
            WARROOM_PLAYBOOKS_FILE=str(file),
        )
        code, _, err = await run_cli("check-config", "--online", env=env)
        assert code == 1
        problems = [line.split(": ", 1)[1] for line in err.strip().splitlines()]
        assert problems == [
            "playbooks[0].webhooks[0].url: only loopback and WARROOM_WEBHOOK_ALLOWED_HOSTS"
            " may be webhook targets",
            "playbooks[0].webhooks[0].secret_env: WARROOM_HOOK_SECRET_T is not set",
        ]
        env["WARROOM_WEBHOOK_ALLOWED_HOSTS"] = "billing.internal"
        env["WARROOM_HOOK_SECRET_T"] = "s"
        code, _, err = await run_cli("check-config", "--online", env=env)
        assert code == 0, err


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("WARROOM_MATTERMOST_URL", "chat.example.com", "must be an http(s) URL"),
        ("WARROOM_MATTERMOST_URL", "https://chat.example.com/mm", "must not have a path"),
        ("WARROOM_COMMAND_TOKENS", "a:b", "each entry is a token"),
    ],
)
def test_a_bad_environment_variable_is_named_with_the_right_problem_in_plain_words(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    says: str,
) -> None:
    """Rule: a bad setting is one line naming the variable and what is wrong with it, in
    warroom's words (no validation-library prefix such as "Value error,"), and exit status 2;
    a URL without a scheme is called not a URL, not "a URL with a path"."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"configuration error: {name}: "), lines
    assert says in lines[0] and "Value error" not in lines[0], lines[0]
