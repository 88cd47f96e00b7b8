"""`leavebot check`: is each thing leavebot needs there and usable? Slack, the database, the HR system."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import slack_client
from bot.config import ConfigError, Settings
from bot.errors import DatabaseUnusable, StartupRefused, explain, friendly, slack_problem
from providers.errors import ProviderAuthError, ProviderError

# The bot scopes leavebot's Slack app is given (tests/test_manifest.py holds manifest.yml to exactly these).
BOT_SCOPES = frozenset({"commands", "chat:write", "users:read", "users:read.email"})
SCHEDULE_AHEAD = 3600  # seconds: a membership probe is scheduled this far ahead, and deleted at once
TOKEN_FIX = (
    "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page"
)
APP_TOKEN_FIX = (
    "set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write "
    "(your app's Basic Information → App-Level Tokens)"
)


@dataclass(frozen=True)
class Check:
    """One thing checked: ``ok`` True (✓), False (✗, with ``fix``) or None (skipped, said why)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    @property
    def mark(self) -> str:
        """✓, ✗ or -."""
        return {True: "✓", False: "✗", None: "-"}[self.ok]


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    checks = await check_slack(settings)
    checks.append(await check_app_token(settings))
    checks.append(database := await check_database(settings))
    if database.ok:
        checks.append(await check_user_tokens(settings))
    checks.append(await check_hr_system(settings))
    return checks


def table(checks: Iterable[Check]) -> str:
    """The checks as aligned lines: mark, name, what was found, and the fix for each ✗."""
    rows = list(checks)
    width = max(len(check.name) for check in rows)
    lines = []
    for check in rows:
        lines.append(f"{check.mark} {check.name:<{width}}  {check.detail}")
        if check.fix:
            lines.append(f"  {'':<{width}}  fix: {check.fix}")
    return "\n".join(lines)


async def preflight(settings: Settings, *, socket_mode: bool = False) -> list[Check]:
    """The checks `serve` and `socket` make before they start: StartupRefused for a bad Slack token (or app
    token) or a database that can't be used; the HR system's check is returned, for a warning."""
    slack = (await check_slack(settings, channels=False))[0]
    needed = [slack, await check_database(settings, migrated=False)]
    if socket_mode:
        needed.append(await check_app_token(settings))
    for check in needed:
        if check.ok is False:
            raise StartupRefused(f"{check.name}: {check.detail} ({check.fix})" if check.fix else check.detail)
    return [await check_hr_system(settings)]


async def check_slack(settings: Settings, *, channels: bool = True) -> list[Check]:
    """The bot token (auth.test), the scopes it was granted, and each digest channel it must post in."""
    if not settings.slack_bot_token:
        return [Check("Slack token", False, "SLACK_BOT_TOKEN is not set", TOKEN_FIX)]
    client = slack_client(settings)
    try:
        answer = await client.auth_test()
    except Exception as exc:
        if (problem := slack_problem(exc)) is None:
            raise
        refused = isinstance(exc, SlackApiError)
        return [
            Check(
                "Slack token",
                False,
                f"refused ({exc.response.get('error')})" if refused else problem,
                TOKEN_FIX if refused else "",
            )
        ]
    checks = [
        Check(
            "Slack token",
            True,
            f"bot @{answer.get('user')} ({answer.get('user_id')}) in {answer.get('team')} ({answer.get('team_id')})",
        )
    ]
    checks.append(_scopes(answer.headers))
    if channels:
        checks += [await _channel(client, channel) for channel in settings.digest_channels]
    return checks


def _scopes(headers: dict[str, str]) -> Check:
    granted_header = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if granted_header is None:
        return Check("Slack scopes", None, "Slack did not say which scopes were granted")
    granted = {scope.strip() for scope in granted_header.split(",") if scope.strip()}
    if missing := sorted(BOT_SCOPES - granted):
        return Check(
            "Slack scopes",
            False,
            f"missing {', '.join(missing)}",
            "add them to the app's bot scopes (as manifest.yml has them) and reinstall it to the workspace",
        )
    return Check("Slack scopes", True, f"all {len(BOT_SCOPES)} of manifest.yml's bot scopes granted")


async def _channel(client: AsyncWebClient, channel: str) -> Check:
    """Whether the bot may post in ``channel``, found with chat:write alone: a message scheduled an hour
    ahead and deleted at once (conversations.info would need channels:read, which leavebot does not ask)."""
    name = f"Digest channel {channel}"
    try:
        scheduled = await client.chat_scheduleMessage(
            channel=channel,
            post_at=int(time.time()) + SCHEDULE_AHEAD,
            text="leavebot check (deleted at once)",
        )
        await client.chat_deleteScheduledMessage(
            channel=scheduled["channel"], scheduled_message_id=scheduled["scheduled_message_id"]
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "not_in_channel":
            return Check(
                name, False, "leavebot is not a member", f"invite it: /invite @leavebot in {channel}"
            )
        if error == "channel_not_found":
            return Check(
                name,
                False,
                "no such channel",
                "set DIGEST_CHANNEL to the channel's id (C…, under its name → About)",
            )
        return Check(
            name, False, f"Slack answered {error}", "see https://api.slack.com/methods/chat.scheduleMessage"
        )
    return Check(name, True, "exists, and leavebot is a member")


async def check_app_token(settings: Settings) -> Check:
    """The Socket Mode app-level token opens a connection (apps.connections.open), when it is set."""
    if not settings.slack_app_token:
        return Check("Slack app token", None, "SLACK_APP_TOKEN not set (only `leavebot socket` needs it)")
    client = AsyncWebClient(base_url=settings.slack_api_url)
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except Exception as exc:
        if (problem := slack_problem(exc)) is None:
            raise
        if isinstance(exc, SlackApiError):
            return Check("Slack app token", False, f"refused ({exc.response.get('error')})", APP_TOKEN_FIX)
        return Check("Slack app token", False, problem)
    return Check("Slack app token", True, "opens a Socket Mode connection")


async def check_database(settings: Settings, *, migrated: bool = True) -> Check:
    """The database answers, and (``migrated``) has every migration applied."""
    from bot.store import create_engine
    from bot.store.migrate import pending_migrations

    engine = create_engine(settings.database_url)
    try:
        pending = await pending_migrations(engine)
    except DatabaseUnusable as exc:
        return Check(
            "Database", False, str(exc).removeprefix("database "), "see above; then `leavebot db upgrade`"
        )
    finally:
        await engine.dispose()
    shown = engine.url.render_as_string(hide_password=True)
    if pending and migrated:
        return Check(
            "Database",
            False,
            f"{shown}: {len(pending)} migration(s) not applied ({pending[0]}…)",
            "run `leavebot db upgrade`",
        )
    return Check("Database", True, f"{shown}: reachable, migrated to head")


KEY_FIX = (
    "set LEAVEBOT_SECRET_KEY to the key the tokens were stored with (a new key cannot read them: "
    "people would have to connect again)"
)


async def check_user_tokens(settings: Settings) -> Check:
    """Once anyone connected their Slack status, LEAVEBOT_SECRET_KEY must be set and read their tokens."""
    from cryptography.fernet import Fernet, InvalidToken

    from bot.store import Store, create_engine

    engine = create_engine(settings.database_url)
    try:
        tokens = await Store(engine).user_tokens()
    finally:
        await engine.dispose()
    name = "Slack status tokens"
    if not tokens:
        ready = (
            "set up"
            if settings.oauth_ready
            else "not set up (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, LEAVEBOT_PUBLIC_URL, LEAVEBOT_SECRET_KEY)"
        )
        return Check(name, None, f"nobody connected yet; leave in Slack statuses {ready}")
    if settings.leavebot_secret_key is None:
        return Check(name, False, f"{len(tokens)} stored, but LEAVEBOT_SECRET_KEY is not set", KEY_FIX)
    fernet = Fernet(settings.leavebot_secret_key.get_secret_value())
    unreadable = 0
    for row in tokens:
        try:
            fernet.decrypt(row.token.encode())
        except InvalidToken:
            unreadable += 1
    if unreadable:
        return Check(
            name, False, f"{unreadable} of {len(tokens)} cannot be read with LEAVEBOT_SECRET_KEY", KEY_FIX
        )
    missing = (
        ""
        if settings.oauth_ready
        else " (but SLACK_CLIENT_ID, SLACK_CLIENT_SECRET or LEAVEBOT_PUBLIC_URL is unset)"
    )
    return Check(name, True, f"{len(tokens)} connected, all readable{missing}")


async def check_hr_system(settings: Settings) -> Check:
    """The HR system's own check: its credentials work and it answers one cheap call."""
    from bot.runtime import open_provider
    from bot.store import create_engine

    name = f"HR system ({settings.leavebot_provider})"
    prefix = settings.leavebot_provider.upper()
    engine = create_engine(settings.database_url)
    try:
        provider = open_provider(settings, engine)
        try:
            await provider.check_connection()
        finally:
            await provider.aclose()
    except ConfigError as exc:
        return Check(name, False, str(exc), f"set the {prefix}_* settings (see .env.example)")
    except ProviderAuthError as exc:
        return Check(name, False, exc.message, f"check the {prefix}_* credentials")
    except ProviderError as exc:
        return Check(
            name, False, friendly(exc), f"check {prefix}_BASE_URL and the network, or try again later"
        )
    except Exception as exc:
        if (problem := explain(exc)) is None:
            raise
        return Check(name, False, problem)
    finally:
        await engine.dispose()
    return Check(name, True, "credentials accepted, answers")
