"""``warroom`` command line: run, setup, check-config."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import log as logging_setup
from bot.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "WARROOM_" + "_".join(str(p) for p in error["loc"]).upper()
            print(f"configuration error: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.app import ConfigError, run_forever
    from bot.errors import ChatUnavailable

    settings = _settings()
    logging_setup.configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(run_forever(settings))
    except ConfigError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 2
    except ChatUnavailable:
        print(
            f"warroom: cannot reach Mattermost at {settings.mattermost_url}"
            " (or it refused the bot token).",
            file=sys.stderr,
        )
        return 1
    return 0


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
    grant: bool | None = True if args.grant_ephemeral else (False if args.no_ephemeral else None)
    try:
        asyncio.run(
            run_setup(
                mattermost_url=settings.mattermost_url,
                admin_token=args.admin_token,
                teams=args.team,
                public_url=settings.public_url,
                db_path=settings.db_path,
                bot_username=args.bot_username,
                grant_ephemeral=grant,
                out=print,
            )
        )
    except SetupError as exc:
        print(f"warroom setup: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from bot.services.playbook_file import PlaybookFileError, read

    settings = _settings()
    try:
        parsed = read(settings.playbooks_file)
    except PlaybookFileError as exc:
        for problem in exc.problems:
            print(f"{exc.file}: {problem}", file=sys.stderr)
        return 1
    print(f"{settings.playbooks_file}: {len(parsed.playbooks)} playbook(s), schema OK")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="warroom", description="Incident management for Mattermost"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run warroom").set_defaults(func=_cmd_run)
    setup = sub.add_parser("setup", help="provision the bot account and the /incident command")
    setup.add_argument("--admin-token", required=True, help="a system admin's access token")
    setup.add_argument("--team", action="append", required=True, help="team name (repeatable)")
    setup.add_argument("--bot-username", default="warroom")
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
    sub.add_parser("check-config", help="validate playbooks.yaml").set_defaults(
        func=_cmd_check_config
    )
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
