"""``warroom`` command line: run, setup, check-config.

Every expected failure is one line on standard error and a non-zero exit status: 2 for a
configuration to fix, 1 for anything else, 3 when setup provisioned everything but
Mattermost could not reach warroom.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import log as logging_setup
from bot.metrics import version
from bot.render import cli as texts
from bot.render import setup as setup_texts
from bot.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "WARROOM_" + "_".join(str(p) for p in error["loc"]).upper()
            # pydantic prefixes a validator's own message with "Value error, ": ours are plain
            message = str(error["msg"]).removeprefix("Value error, ")
            print(f"configuration error: {name}: {message}", file=sys.stderr)
        raise SystemExit(2) from None


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.app import ConfigError, run_forever

    settings = _settings()
    logging_setup.configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(run_forever(settings))
    except ConfigError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # one line, never a traceback, for whatever was not foreseen
        print(
            f"warroom: stopped by an unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 1
    return 0


def _admin_token(args: argparse.Namespace, settings: Settings) -> str | None:
    """From standard input, the environment, or (with a warning) the command line."""
    if args.admin_token_stdin:
        return sys.stdin.readline().strip() or None
    if settings.admin_token:
        return settings.admin_token.get_secret_value()
    if args.admin_token:
        print(setup_texts.ARGV_WARNING, file=sys.stderr)
        return str(args.admin_token)
    return None


def _cmd_setup(args: argparse.Namespace) -> int:
    from bot.setup import SetupError, run_setup

    settings = _settings()
    logging_setup.configure("warning", "console")
    if not settings.public_url:
        print(
            "warroom setup: set WARROOM_PUBLIC_URL (how Mattermost reaches warroom)",
            file=sys.stderr,
        )
        return 2
    token = _admin_token(args, settings)
    if not token:
        print(f"warroom setup: {setup_texts.ASK_FOR_ADMIN}", file=sys.stderr)
        return 2
    grant: bool | None = True if args.grant_ephemeral else (False if args.no_ephemeral else None)
    try:
        report = asyncio.run(
            run_setup(
                mattermost_url=settings.mattermost_url,
                admin_token=token,
                teams=args.team,
                public_url=settings.public_url,
                db_path=settings.db_path,
                bot_username=args.bot_username,
                grant_ephemeral=grant,
                out=print,
                listen=(settings.listen_host, settings.listen_port),
                probe=not args.no_probe,
            )
        )
    except SetupError as exc:
        print(f"warroom setup: {exc}", file=sys.stderr)
        return 1
    return 3 if report.reachable is False else 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from bot.app import ConfigError, check_playbooks_online
    from bot.services.playbook_file import PlaybookFileError, read

    settings = _settings()
    logging_setup.configure("error", "console")
    try:
        if args.online:
            count = len({p.title.lower() for p in asyncio.run(check_playbooks_online(settings))})
        else:
            count = len(read(settings.playbooks_file).playbooks)
    except PlaybookFileError as exc:
        for problem in exc.problems:
            print(f"{exc.file}: {problem}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"warroom check-config: {exc}", file=sys.stderr)
        return 2
    print(texts.playbooks_ok(str(settings.playbooks_file), count, online=args.online))
    return 0


def _subparser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=texts.DESCRIPTION[name],
        epilog=texts.epilog(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="warroom", description="Incident management for Mattermost"
    )
    parser.add_argument("--version", action="version", version=f"warroom {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _subparser(sub, "run", "run warroom").set_defaults(func=_cmd_run)

    setup = _subparser(sub, "setup", "provision the bot account and the /incident command")
    source = setup.add_mutually_exclusive_group()
    source.add_argument(
        "--admin-token-stdin",
        action="store_true",
        help="read the system admin's token from the first line of standard input",
    )
    source.add_argument(
        "--admin-token",
        help="the token itself (lands in shell history and `ps`: prefer WARROOM_ADMIN_TOKEN"
        " or --admin-token-stdin)",
    )
    setup.add_argument("--team", action="append", required=True, help="team name (repeatable)")
    setup.add_argument("--bot-username", default="warroom")
    setup.add_argument(
        "--no-probe",
        action="store_true",
        help="do not run /incident once to check that Mattermost reaches WARROOM_PUBLIC_URL",
    )
    grant = setup.add_mutually_exclusive_group()
    grant.add_argument(
        "--grant-system-admin",
        "--grant-ephemeral",  # the former name, kept working
        dest="grant_ephemeral",
        action="store_true",
        help="give the bot the system admin role, only so it can post ephemeral messages"
        " (not needed: without it warroom uses direct messages)",
    )
    grant.add_argument(
        "--no-system-admin",
        "--no-ephemeral",
        dest="no_ephemeral",
        action="store_true",
        help="remove the system admin role from the bot if it holds it",
    )
    setup.set_defaults(func=_cmd_setup)

    check = _subparser(sub, "check-config", "validate playbooks.yaml")
    check.add_argument(
        "--online",
        action="store_true",
        help="also resolve teams, users and channels against Mattermost (needs the bot token)",
    )
    check.set_defaults(func=_cmd_check_config)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
