"""The Dockerfile cannot silently rot: no container engine runs here, so this test builds the
image's filesystem the way the Dockerfile says (its COPY lines, its pip install into a
prefix, its ENV, USER, ENTRYPOINT, CMD and HEALTHCHECK) and starts it as a non-root user
from a read-only copy with only /data writable."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.double import MattermostDouble
from tests.scenarios.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
NON_ROOT_UID = 10001


@dataclass
class Stage:
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [args for instr, args in self.instructions if instr == name]

    def one(self, name: str) -> str:
        [args] = self.all(name)
        return args


def parse_dockerfile(text: str) -> list[Stage]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuation lines joined."""
    stages: list[Stage] = []
    logical = re.sub(r"\\\n", " ", text)
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        if instr.upper() == "FROM":
            stages.append(Stage())
        stages[-1].instructions.append((instr.upper(), args.strip()))
    return stages


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


# Prints the uid, where `bot` is imported from, and whether the installed package is writable.
PROBE = """
import os, sys, bot
try:
    open(os.path.join(sys.argv[1], "probe"), "w")
    state = "writable"
except PermissionError:
    state = "read-only"
print(os.getuid(), bot.__file__, state)
"""


def _non_root() -> list[str]:
    """The command prefix that runs a program as a non-root user.

    Already non-root: nothing. As root: a user namespace in which the process is uid 10001
    without capabilities (util-linux ``unshare``), so file modes bind it as they bind the
    image's user; a plain setuid would not do, as this interpreter may live in a directory
    only root can enter.
    """
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    assert unshare is not None, "running as root needs util-linux unshare to drop to a user"
    return [unshare, "--user", f"--map-user={NON_ROOT_UID}", f"--map-group={NON_ROOT_UID}"]


@pytest.fixture
def image_root() -> Iterator[Path]:
    # Not pytest's tmp_path: its parent is private to root, and the image runs as another user.
    made = Path(tempfile.mkdtemp(prefix="warroom-image-"))
    made.chmod(0o755)
    try:
        yield made
    finally:
        for path in [made, *made.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(made)


def test_dockerfile_declares_what_the_image_promises() -> None:
    build, final = parse_dockerfile((ROOT / "Dockerfile").read_text())
    health = final.one("HEALTHCHECK")
    assert "--start-period=" in health
    assert "/readyz" in health and "WARROOM_LISTEN_PORT" in health
    assert final.one("USER") not in ("root", "0", "")
    labels = " ".join(final.all("LABEL"))
    for label in ("title", "description", "licenses", "version"):
        assert f"org.opencontainers.image.{label}=" in labels
    assert env_of(final)["WARROOM_PLAYBOOKS_FILE"].startswith("/etc/warroom/")
    assert json.loads(final.one("VOLUME")) == ["/data"]
    assert build.one("RUN").startswith("pip install --no-cache-dir --prefix=/install ")


@dataclass
class Image:
    root: Path  # stands for the image's /
    prefix: Path  # /usr/local, where the build stage's /install was copied
    data: Path  # /data, the only writable directory
    final: Stage


def build_image(root: Path) -> Image:
    """The image's filesystem under ``root``, made by the Dockerfile's own instructions."""
    build, final = parse_dockerfile((ROOT / "Dockerfile").read_text())
    # ---- build stage: COPY the sources, pip install into the prefix -----------------------
    src = root / "src"
    src.mkdir()
    for args in build.all("COPY"):
        *sources, dest = args.split()
        for source in sources:
            target = src / dest if dest not in ("./", ".") else src / source
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / source, src / source)
    prefix = root / "usr" / "local"  # COPY --from=build /install /usr/local
    assert "--from=build /install /usr/local" in final.all("COPY")
    command = build.one("RUN").split()
    assert command[:2] == ["pip", "install"]
    options = [a.replace("/install", str(prefix)) for a in command[2:]]
    # --ignore-installed: the build stage has nothing installed; here the test's own venv has
    # warroom, which pip would otherwise uninstall from it while installing into the prefix.
    pip = subprocess.run(  # noqa: S603 - the Dockerfile's own pip line, run on our interpreter
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed",
         *options],
        cwd=src, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-2000:]
    assert shutil.which("warroom", path=str(Path(sys.executable).parent))  # venv's own intact
    # ---- final stage: the other COPY lines, /data writable, everything else read-only ------
    for args in final.all("COPY"):
        if args.startswith("--from="):
            continue
        source, dest = args.split()
        (root / dest.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / source, root / dest.lstrip("/"))
    shutil.rmtree(src)
    data = root / "data"
    data.mkdir()
    for path in [root, *root.rglob("*")]:
        if path != data:
            path.chmod(path.stat().st_mode & ~0o222 | 0o444 | (0o111 if path.is_dir() else 0))
    return Image(root=root, prefix=prefix, data=data, final=final)


@pytest.fixture
def image(image_root: Path) -> Image:
    return build_image(image_root)


async def test_the_image_filesystem_starts_read_only_as_a_non_root_user(image: Image) -> None:
    image_root, prefix, data, final = image.root, image.prefix, image.data, image.final
    as_user = _non_root()

    def inside(value: str) -> str:  # an absolute path of the image, under image_root
        return str(image_root / value.lstrip("/")) if value.startswith("/") else value

    site = next(prefix.glob("lib/python3*/site-packages"))
    async with MattermostDouble() as mm:
        team = mm.add_team("acme")
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        port = free_port()
        env = {
            "PATH": f"{prefix / 'bin'}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(site),
            "HOME": str(data),
            **{key: inside(value) for key, value in env_of(final).items()},
            "WARROOM_LISTEN_HOST": "127.0.0.1",  # loopback only in tests
            "WARROOM_LISTEN_PORT": str(port),
            "WARROOM_MATTERMOST_URL": mm.url,
            "WARROOM_BOT_TOKEN": bot.token,
        }
        where = await asyncio.create_subprocess_exec(
            *as_user, sys.executable, "-c", PROBE, str(site), env=env, cwd=image_root,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await where.communicate()
        uid, module, writable = out.decode().split()
        assert int(uid) != 0, err  # a non-root user
        assert module.startswith(str(site))  # the installed copy, not this tree
        assert writable == "read-only"
        argv = json.loads(final.one("ENTRYPOINT")) + json.loads(final.one("CMD"))
        proc = await asyncio.create_subprocess_exec(
            *as_user, str(prefix / "bin" / argv[0]), *argv[1:], env=env, cwd=image_root,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await _wait_ready(port, proc)
            assert await _healthcheck(final, env, as_user) == 0
            elsewhere = {**env, "WARROOM_LISTEN_PORT": str(free_port())}
            assert await _healthcheck(final, elsewhere, as_user) != 0
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert (data / "warroom.db").exists()  # WARROOM_DB_PATH=/data/warroom.db


async def _wait_ready(port: int, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            if proc.returncode is not None:
                _, err = await proc.communicate()
                raise AssertionError("warroom exited early: " + err.decode()[-2000:])
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("warroom never became ready")


async def _healthcheck(final: Stage, env: dict[str, str], as_user: list[str]) -> int:
    """Run the HEALTHCHECK's exec-form command as the image would; its exit status."""
    health = final.one("HEALTHCHECK")
    argv = json.loads(health[health.index("CMD") + 3 :].strip())
    assert argv[0] == "python"
    check = await asyncio.create_subprocess_exec(
        *as_user, sys.executable, *argv[1:], env=env, cwd=env["HOME"],
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(check.wait(), 30)
