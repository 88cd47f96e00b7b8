"""The `leavebot` command: serve Slack, post the digest, migrate, and do the main job from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from bot.config import ConfigError, Settings, load_settings
from bot.errors import UserError, friendly
from bot.parsing import ParseError, parse_request
from providers.errors import ProviderError

log = logging.getLogger("leavebot")


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit 2 for configuration errors, 1 for anything else that failed."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic logs its plugin set-up on import and its context on every start: noise around our one-line errors.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        return asyncio.run(args.run(settings, args)) or 0
    except ConfigError as exc:
        print(f"leavebot: configuration error: {exc}", file=sys.stderr)
        return 2
    except (UserError, ParseError, ProviderError) as exc:
        print(f"leavebot: {friendly(exc) if not isinstance(exc, ParseError) else exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leavebot", description="Leave requests from Slack, booked in your HR system."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(
        name: str, run: Callable[[Settings, argparse.Namespace], Awaitable[int | None]], help: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    command("serve", serve, "serve Slack over HTTP on $PORT (POST /slack/events) and post the daily digest")
    command("socket", socket, "connect to Slack over Socket Mode (local development; needs SLACK_APP_TOKEN)")
    command("digest", digest, "post today's who's-off digest to DIGEST_CHANNEL now (once per day)")
    db = command("db", _needs_subcommand, "database commands").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply the database migrations").set_defaults(run=db_upgrade)
    request = command("request", request_leave, "request leave as someone, without Slack")
    request.add_argument("text", help='what you would type after /leave, e.g. "tomorrow pm for the dentist"')
    request.add_argument("--as", dest="email", required=True, help="the requester's e-mail address")
    who = command("who", whos_off, "list who is off on a day (default today), without Slack")
    who.add_argument("day", nargs="?", type=date.fromisoformat, help="YYYY-MM-DD")
    parse = command("parse", parse_text, "show how a text would be understood")
    parse.add_argument("text")
    parse.add_argument("--today", type=date.fromisoformat, help="pretend today is YYYY-MM-DD")
    parse.add_argument("--json", action="store_true", help="print JSON")
    return parser


async def _needs_subcommand(settings: Settings, args: argparse.Namespace) -> int:
    return 2


async def serve(settings: Settings, args: argparse.Namespace) -> None:
    """HTTP mode under uvicorn, with the background jobs."""
    import uvicorn

    from bot.app import create_app
    from bot.jobs import run_forever
    from bot.runtime import running
    from bot.server import create_server

    settings.require("slack_bot_token", "slack_signing_secret")
    async with running(settings) as service:
        assert service.slack is not None
        await service.warm_up()
        app = create_app(settings, service=service, slack=service.slack)
        server = create_server(app, service.store, background=lambda: run_forever(service, settings))
        log.info("leavebot (%s provider) listening on port %s", service.provider.name, settings.port)
        await uvicorn.Server(
            uvicorn.Config(server, host="0.0.0.0", port=settings.port, log_level="info")
        ).serve()


async def socket(settings: Settings, args: argparse.Namespace) -> None:
    """Socket Mode, with the background jobs."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app
    from bot.jobs import run_forever
    from bot.runtime import running

    settings.require("slack_bot_token", "slack_app_token")
    assert settings.slack_app_token is not None
    async with running(settings) as service:
        assert service.slack is not None
        await service.warm_up()
        app = create_app(settings, service=service, slack=service.slack, socket_mode=True)
        jobs = asyncio.create_task(run_forever(service, settings))
        try:
            await AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value()).start_async()
        finally:
            jobs.cancel()


async def digest(settings: Settings, args: argparse.Namespace) -> None:
    """Post today's digest to each digest channel that has none yet."""
    from bot.runtime import running
    from bot.services.whos_off import post_digest

    settings.require("slack_bot_token", "digest_channel")
    async with running(settings) as service:
        day = datetime.now(settings.zone).date()
        posted = await post_digest(service, channels=settings.digest_channels, day=day)
    for channel, done in posted.items():
        print(f"{channel}: {'posted' if done else 'already posted'} the digest for {day}")


async def db_upgrade(settings: Settings, args: argparse.Namespace) -> None:
    """Apply migrations."""
    from bot.store import create_engine, upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    print("database is up to date")


async def request_leave(settings: Settings, args: argparse.Namespace) -> None:
    """Parse, book and show who will approve, exactly as `/leave` would."""
    from bot.runtime import running

    async with running(settings) as service:
        today = datetime.now(settings.zone).date()
        draft = parse_request(args.text, today=today, leave_types=await service.leave_types())
        person = await service.provider.find_person(args.email)
        result = await service.submit(draft=draft, key=f"cli:{uuid.uuid4().hex}", person=person)
        approvers = await service.provider.approvers(person)
    names = ", ".join(p.email or p.name for p in approvers) or "nobody (set LOCAL_APPROVERS)"
    request = result.request
    print(
        f"request #{request.id}: {request.requester_name}, {request.span.describe()}, {request.leave_type_name or 'leave'}"
    )
    print(f"status: {request.status}; approvers: {names}")


async def whos_off(settings: Settings, args: argparse.Namespace) -> None:
    """Print who is off on a day."""
    from bot.runtime import running
    from bot.services.whos_off import absent_on

    async with running(settings) as service:
        day = args.day or datetime.now(settings.zone).date()
        absences = await absent_on(service, day)
    print(f"Who's off on {day:%a} {day.day} {day:%b %Y}: {len(absences) or 'nobody'}")
    for absence in absences:
        print(
            f"  {absence.person.name} <{absence.person.email or absence.person.id}>: {absence.leave_type or 'away'}, {absence.part_on(day)}"
        )


async def parse_text(settings: Settings, args: argparse.Namespace) -> None:
    """Print the draft a text becomes."""
    today = args.today or datetime.now(settings.zone).date()
    draft = parse_request(args.text, today=today)
    if args.json:
        print(json.dumps(draft.model_dump(mode="json")))
    else:
        print(f"{draft.describe()}; type: {draft.leave_type or '-'}; reason: {draft.reason or '-'}")


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
