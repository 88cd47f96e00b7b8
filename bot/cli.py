"""The `leavebot` command: serve Slack, post the digest, migrate, and do the main job from a shell."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from importlib.metadata import version
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import admin, logs
from bot.config import ConfigError, Settings, load_config, mask_url, unknown_variables
from bot.errors import StartupRefused, UserError, explain, friendly
from bot.parsing import ParseError, day_first, parse_request, today_in
from providers.base import LeaveProvider
from providers.errors import ProviderError
from providers.models import Absence, Draft, LeaveType

log = logging.getLogger("leavebot")


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit 2 for configuration errors (and a refused start), 1 for anything else that failed."""
    args = _parser().parse_args(argv)
    debug = args.debug or _log_level() == "DEBUG"
    serving = args.run in (serve, socket)
    logs.configure(_level(debug, serving, "INFO"), tracebacks=debug)
    try:
        for name, close in unknown_variables():
            print(
                f"leavebot: warning: {name} is not a leavebot setting (did you mean {close}?)",
                file=sys.stderr,
            )
        settings = load_config(require=args.requires, provider=args.provider)
        logs.configure(_level(debug, serving, settings.log_level), settings.log_format, tracebacks=debug)
        return asyncio.run(args.run(settings, args)) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _failed(exc, debug=debug)


def _level(debug: bool, serving: bool, configured: str) -> str:
    """LOG_LEVEL while serving; only errors for a one-off command (it says itself what happened); all with debug."""
    return "DEBUG" if debug else configured if serving else "ERROR"


def _failed(exc: Exception, *, debug: bool) -> int:
    """Tell whoever ran the command what went wrong in one line (the traceback too with --debug); the exit code."""
    if debug:
        traceback.print_exception(exc)
    if isinstance(exc, ConfigError):
        print(f"leavebot: configuration error: {exc}", file=sys.stderr)
        return 2
    line = explain(exc)
    if line is None:  # a bug: its type and first line, never a secret in a URL
        first = mask_url(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
        line = f"unexpected error {type(exc).__name__}{': ' + first if first else ''}"
        line += "" if debug else " (run again with --debug for the traceback)"
    print(f"leavebot: {line}", file=sys.stderr)
    return 2 if isinstance(exc, StartupRefused) else 1


def _log_level() -> str:
    from dotenv import dotenv_values

    return str(os.environ.get("LOG_LEVEL") or dotenv_values(".env").get("LOG_LEVEL") or "").upper()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leavebot", description="Leave requests from Slack, booked in your HR system."
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure (as LOG_LEVEL=DEBUG does)"
    )
    parser.add_argument("--version", action="version", version=f"leavebot {version('leavebot')}")
    parser.set_defaults(requires=(), provider=True)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(
        name: str,
        run: Callable[[Settings, argparse.Namespace], Awaitable[int | None]],
        help: str,
        *,
        requires: Sequence[str] = (),
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run, requires=requires)
        return sub

    command(
        "serve",
        serve,
        "serve Slack over HTTP on $PORT (POST /slack/events) and post the daily digest",
        requires=("slack_bot_token", "slack_signing_secret"),
    )
    command(
        "socket",
        socket,
        "connect to Slack over Socket Mode (local development; needs SLACK_APP_TOKEN)",
        requires=("slack_bot_token", "slack_app_token"),
    )
    command(
        "digest",
        digest,
        "post today's who's-off digest to DIGEST_CHANNEL now (once per day)",
        requires=("slack_bot_token", "digest_channel"),
    )
    command("check", check, "check Slack, the database and the HR system; ✓ or ✗ with the fix for each")
    db = command("db", _needs_subcommand, "database commands").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply the database migrations").set_defaults(
        run=db_upgrade, provider=False
    )
    request = command("request", request_leave, "request leave as someone, without Slack")
    request.add_argument("text", help='what you would type after /leave, e.g. "tomorrow pm for the dentist"')
    request.add_argument("--as", dest="email", required=True, help="the requester's e-mail address")
    sync = command("sync", sync_absences, "bring the absence mirror in step with the HR system now")
    sync.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    sync.add_argument("--near", action="store_true", help="only the next two weeks (a near pass)")
    who = command("who", whos_off, "list who is off on a day or days (default today), without Slack")
    who.add_argument(
        "day", nargs="*", help="a day or days as `/leave who` takes them: YYYY-MM-DD, tomorrow, next week"
    )
    parse = command("parse", parse_text, "show how a text would be understood")
    texts = parse.add_mutually_exclusive_group(required=True)
    texts.add_argument(
        "text", nargs="?", help='what you would type after /leave, e.g. "fri pm for the dentist"'
    )
    texts.add_argument(
        "--batch", metavar="FILE", help="one text per line (- reads stdin); one result per line"
    )
    parse.add_argument("--today", type=date.fromisoformat, help="pretend today is YYYY-MM-DD")
    parse.add_argument(
        "--tz", metavar="ZONE", help="the requester's time zone, for today (default DIGEST_TIMEZONE)"
    )
    parse.add_argument(
        "--locale",
        default="en-GB",
        help="en-GB (default) reads 24/12 as day/month; en-US reads 12/24 as month/day",
    )
    parse.add_argument("--json", action="store_true", help="print JSON")
    admin.register(command)
    return parser


async def _needs_subcommand(settings: Settings, args: argparse.Namespace) -> int:
    return 2


async def serve(settings: Settings, args: argparse.Namespace) -> None:
    """HTTP mode under uvicorn, with the background jobs."""
    import uvicorn

    from bot.app import create_app
    from bot.ical_route import FeedRoute
    from bot.listeners import ListenerDeps
    from bot.oauth import OAuthRedirect
    from bot.runtime import run_beside, running
    from bot.server import create_server
    from bot.webhooks import WebhookReceiver

    await _preflight(settings)
    async with running(settings) as services:
        slack = services.deps.slack
        assert slack is not None
        listeners = ListenerDeps(services=services, settings=settings)
        server = create_server(
            create_app(listeners, slack=slack),
            services.deps.store,
            background=lambda: run_beside(services, settings, resume=listeners.resume_abandoned),
            webhooks=WebhookReceiver(services).receive,
            stopping=listeners.stop,
            provider=services.deps.provider.name,
            oauth_redirect=OAuthRedirect(services).answer,
            feeds=FeedRoute(services.feeds).get,
        )
        log.info("leavebot (%s provider) listening on port %s", services.deps.provider.name, settings.port)
        config = uvicorn.Config(
            server,
            host="0.0.0.0",
            port=settings.port,
            log_level=settings.log_level.lower(),
            log_config=None,  # uvicorn's records go through bot.logs: one format, one stream
            timeout_graceful_shutdown=max(1, round(settings.shutdown_grace)),
        )
        await uvicorn.Server(config).serve()


async def socket(settings: Settings, args: argparse.Namespace) -> None:
    """Socket Mode, with the background jobs."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app
    from bot.listeners import ListenerDeps
    from bot.runtime import run_beside, running

    assert settings.slack_app_token is not None
    await _preflight(settings, socket_mode=True)
    async with running(settings) as services:
        slack = services.deps.slack
        assert slack is not None
        listeners = ListenerDeps(services=services, settings=settings)
        app = create_app(listeners, slack=slack, socket_mode=True)
        jobs = asyncio.create_task(run_beside(services, settings, resume=listeners.resume_abandoned))
        try:
            await AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value()).start_async()
        finally:
            await listeners.stop()
            jobs.cancel()


async def _preflight(settings: Settings, *, socket_mode: bool = False) -> None:
    """Refuse to start on a bad Slack token or an unusable database; only warn of an HR system that fails."""
    from bot.check import preflight

    for check in await preflight(settings, socket_mode=socket_mode):
        if check.ok is False:
            print(f"leavebot: warning: {check.name}: {check.detail} (starting anyway)", file=sys.stderr)


async def check(settings: Settings, args: argparse.Namespace) -> int:
    """Print ✓ / ✗ for each thing leavebot needs, with the fix for each ✗; 1 when any failed."""
    from bot.check import run_checks, table

    checks = await run_checks(settings)
    print(table(checks))
    return 1 if any(c.ok is False for c in checks) else 0


async def digest(settings: Settings, args: argparse.Namespace) -> None:
    """Post today's digest to each digest channel that has none yet."""
    from bot.runtime import running
    from bot.services.calendar import DigestPlan
    from bot.services.digest import post_digest

    async with running(settings) as services:
        day = datetime.now(settings.zone).date()
        posted = await post_digest(services.deps, day=day, plan=DigestPlan.from_settings(settings))
    for channel, done in posted.items():
        print(f"{channel}: {'posted' if done else 'already posted'} the digest for {day}")


async def db_upgrade(settings: Settings, args: argparse.Namespace) -> None:
    """Apply migrations."""
    from bot.store import create_engine, upgrade

    engine = create_engine(settings.database_url)
    try:
        applied = await upgrade(engine)
    finally:
        await engine.dispose()
    span = f"{applied[0]}…{applied[-1]}" if len(applied) > 1 else "".join(applied)
    print(f"applied {span}" if applied else "database is up to date")


async def request_leave(settings: Settings, args: argparse.Namespace) -> None:
    """Parse, book and show who will approve, exactly as `/leave` would; the same command again finds it."""
    from bot.runtime import running

    async with running(settings) as services:
        today = datetime.now(settings.zone).date()
        draft = parse_request(args.text, today=today, leave_types=await services.requests.leave_types())
        person = await services.deps.provider.find_person(args.email)
        result = await services.requests.submit(
            draft=draft, key=_request_key(args.email, draft), person=person
        )
        approvers = await services.deps.provider.approvers(person)
        jobs = await services.deps.store.jobs(request_id=result.request.id)
        unsent = [job for job in jobs if job.result != "done"]
    names = ", ".join(p.email or p.name for p in approvers) or _nobody(services.deps.provider)
    request = result.request
    again = " (made before: the same request is not made twice)" if result.duplicate else ""
    print(
        f"request #{request.id}: {request.requester_name}, {request.span.describe()}, {request.leave_type_name or 'leave'}{again}"
    )
    if result.queued:
        print("status: queued (the HR system is not answering; `leavebot serve` sends it when it is back)")
        return
    print(f"status: {request.status}; approvers: {names}")
    if unsent:
        later = (
            "`leavebot serve` will once Slack answers"
            if all(job.result is None for job in unsent)
            else "Slack refused; tell them yourself"
        )
        print(
            f"leavebot: saved request #{request.id}, but could not tell its approvers in Slack: {later} "
            "(`leavebot check` says what is wrong)",
            file=sys.stderr,
        )


def _nobody(provider: LeaveProvider) -> str:
    """Who approves someone the provider names no approver for: the setting (or HR field) that would."""
    where = (
        provider.approvers_setting or f"{provider.display_name}'s {provider.approvers_field or 'approver'}"
    )
    return f"nobody (set {where}, or ESCALATION_APPROVER)"


def _request_key(email: str, draft: Draft) -> str:
    """The same person asking for the same leave from the shell is the same request."""
    asked = f"{email.strip().casefold()}|{draft.model_dump_json()}"
    return f"cli:{hashlib.sha256(asked.encode()).hexdigest()[:32]}"


async def sync_absences(settings: Settings, args: argparse.Namespace) -> int:
    """One sync pass; print what changed."""
    from bot.runtime import running

    async with running(settings) as services:
        report = await services.sync.run_pass(full=not args.near)
    if report is None:
        print(
            "leavebot: no pass ran: another instance is syncing, or the HR system did not answer (see the log)"
        )
        return 1
    print(report)
    changes = report.changes
    for absence in changes.new:
        print(f"  new: {_absence_line(absence)}")
    for before, after in changes.changed:
        print(f"  changed: {_absence_line(before)} -> {_absence_line(after)}")
    for absence in changes.deleted:
        print(f"  deleted: {_absence_line(absence)}")
    return 0


def _absence_line(absence: Absence) -> str:
    span = (
        f"{absence.start_date}"
        if absence.start_date == absence.end_date
        else f"{absence.start_date}..{absence.end_date}"
    )
    return f"{absence.person.name} {span} {absence.status} (booking {absence.id})"


async def whos_off(settings: Settings, args: argparse.Namespace) -> None:
    """Print who is off on a day (or each day of a span), read as `/leave who` reads it."""
    from bot.runtime import running
    from bot.services.who import read_who

    query = read_who(" ".join(args.day), today=datetime.now(settings.zone).date())
    days = [query.start + timedelta(days=n) for n in range((query.end - query.start).days + 1)]
    async with running(settings) as services:
        for day in days:
            absences = await services.deps.absent_on(day)
            print(f"Who's off on {day:%a} {day.day} {day:%b %Y}: {len(absences) or 'nobody'}")
            for absence in absences:
                print(
                    f"  {absence.person.name} <{absence.person.email or absence.person.id}>: {absence.leave_type or 'away'}, {absence.part_on(day)}"
                )


async def parse_text(settings: Settings, args: argparse.Namespace) -> None:
    """Print the draft a text becomes; with --batch, one line per text (an error is a result, not a failure)."""
    today = args.today or today_in(_zone(args.tz) if args.tz else settings.zone)
    day_first(args.locale)  # an unsupported locale is one error, not one per line
    leave_types = await _configured_leave_types(settings)
    if args.batch is None:
        draft = parse_request(
            args.text,
            today=today,
            leave_types=leave_types,
            locale=args.locale,
            country=settings.digest_country,
        )
        print(_shown(draft, as_json=args.json, today=today, locale=args.locale))
        return
    for text in _lines(args.batch):
        try:
            shown = _shown(
                parse_request(
                    text,
                    today=today,
                    leave_types=leave_types,
                    locale=args.locale,
                    country=settings.digest_country,
                ),
                as_json=args.json,
                today=today,
                locale=args.locale,
            )
        except ParseError as exc:
            shown = json.dumps({"error": str(exc)}, ensure_ascii=False) if args.json else f"error: {exc}"
        print(shown if args.json else f"{text}\t{shown}")


def _shown(draft: Draft, *, as_json: bool, today: date, locale: str) -> str:
    if as_json:
        return json.dumps(draft.model_dump(mode="json"), ensure_ascii=False)
    # Written as the locale writes dates, with the year outside --today's.
    when = draft.describe(this_year=today.year, month_first=not day_first(locale))
    return f"{when}; type: {draft.leave_type or '-'}; reason: {draft.reason or '-'}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {name!r} (try Europe/London or America/New_York)") from None


def _lines(path: str) -> list[str]:
    try:
        if path == "-":
            content = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", errors="replace") as file:
                content = file.read()
    except OSError as exc:
        raise UserError(f"can't read {path}: {exc.strerror}") from None
    # Only newlines split: splitlines() would also break a text at \v, \f or U+2028 and misalign the output.
    return [line.removesuffix("\r") for line in content.removesuffix("\n").split("\n")] if content else []


async def _configured_leave_types(settings: Settings) -> list[LeaveType]:
    """The configured provider's leave types, asked without the database; none, with a warning, if it can't say."""
    from bot.runtime import open_provider

    provider = open_provider(settings)
    try:
        return await provider.leave_types()
    except ProviderError as exc:
        print(f"leavebot: leave types not matched ({friendly(exc)})", file=sys.stderr)
        return []
    finally:
        await provider.aclose()


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
