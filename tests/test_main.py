"""The real command line, as an operator runs it: `warroom setup`, then `warroom run`, then SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

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


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
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
            "setup", "--admin-token", admin.token, "--team", "acme", env=env
        )
        assert code == 0, err
        assert "/incident" in out
        bot = mm.user_by_name("warroom")
        assert bot is not None and bot.is_bot
        mm.add_channel(team.id, "ops", members=[bot.id])

        code, _, err = await run_cli("setup", "--admin-token", "wrong", "--team", "acme", env=env)
        assert code == 1 and "warroom setup:" in err and "Traceback" not in err

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
