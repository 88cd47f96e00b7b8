"""What a user is told when something goes wrong: one place turns every failure into plain words."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Iterator

import aiohttp
import asyncpg
from slack_sdk.errors import SlackApiError

from bot.parsing.errors import ParseError
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

SLACK_PASSING = {"ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"}


def passing(exc: BaseException) -> bool:
    """True for a failure that may pass: the HR system or Slack down, slow or rate-limiting.

    False for a refusal, bad credentials, or a Slack error that repeating cannot mend
    (``channel_not_found``, ``message_not_found``…).
    """
    if isinstance(exc, ProviderUnavailable | ProviderRateLimited):
        return True
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return status >= 500 or status == 429 or exc.response.get("error") in SLACK_PASSING
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError)


class UserError(Exception):
    """A failure the user can understand or fix; its message is shown to them as it is."""


class NotAnApprover(UserError):
    """Someone who is not an approver of a request pressed its buttons."""


def friendly(exc: BaseException) -> str:
    """The message a Slack user sees for ``exc``; never a stack trace, never a secret."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ProviderRejected):
        return f"The HR system said no: {exc.message}"
    if isinstance(exc, ProviderRateLimited):
        return "The HR system is busy right now: please try again in a minute."
    if isinstance(exc, ProviderUnavailable):
        return "The HR system isn't answering right now: please try again in a few minutes."
    if isinstance(exc, ProviderAuthError):
        return "leavebot can't sign in to the HR system (its credentials were refused). Your admin has been told in the logs."
    if isinstance(exc, ProviderNotFound):
        return f"The HR system doesn't know that: {exc.message}"
    if isinstance(exc, ProviderError):
        return f"The HR system had a problem: {exc.message}"
    # Never "nothing was lost" here: only a message that knows its work was stored may say so.
    return "Something went wrong on leavebot's side: please try again, and tell your admin if it keeps happening."


class DatabaseUnusable(UserError):
    """The database can't be reached or used (down, unknown, refusing the role): its message says which."""


class StartupRefused(UserError):
    """`serve` or `socket` won't start: Slack refused the token, or the database can't be used."""


SLACK_TOKEN_REFUSED = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}


def slack_token_refused(exc: BaseException) -> str | None:
    """Slack's error when it refused leavebot's token (``invalid_auth``…): nothing works until an operator
    fixes SLACK_BOT_TOKEN and restarts; None for any other failure."""
    if isinstance(exc, SlackApiError) and (error := exc.response.get("error")) in SLACK_TOKEN_REFUSED:
        return str(error)
    return None


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, outermost first (a driver's error inside SQLAlchemy's)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def database_problem(exc: BaseException) -> str | None:
    """What went wrong reaching or opening the database, in plain words; None when it is not that."""
    for cause in causes(exc):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return f"{cause} (create it, e.g. `createdb`, or fix the name in DATABASE_URL)"
        if isinstance(cause, asyncpg.InvalidPasswordError):
            return f"{cause} (check the user and password in DATABASE_URL)"
        if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
            return f"{cause} (create the role, or fix the user in DATABASE_URL)"
        if isinstance(cause, asyncpg.PostgresError):
            return f"PostgreSQL refused: {cause}"
        if isinstance(cause, socket.gaierror):
            return "unknown host (check the host in DATABASE_URL)"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (is PostgreSQL running at that host and port?)"
        if isinstance(cause, TimeoutError):
            return "no answer (check the host, port and firewall)"
        if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
            return "can't open the SQLite file (does its directory exist, and may leavebot write there?)"
        if isinstance(cause, sqlite3.Error | asyncpg.InterfaceError | OSError):
            return str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return None


def slack_problem(exc: BaseException) -> str | None:
    """What Slack said (or that it said nothing), in plain words with the fix; None when it is not Slack."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error", ""))
        channel = _slack_channel(exc)
        if error in SLACK_TOKEN_REFUSED:
            return (
                f"Slack refused SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth Token (xoxb-…) "
                "from your app's OAuth & Permissions page"
            )
        if error == "not_in_channel":
            return f"leavebot is not a member of channel {channel}: invite it there (/invite @leavebot)"
        if error == "channel_not_found":
            return f"Slack knows no channel {channel}: set DIGEST_CHANNEL to a channel id (C…)"
        if error == "missing_scope":
            needed = exc.response.get("needed", "?")
            return f"leavebot's Slack app lacks the scope {needed}: add it (see manifest.yml) and reinstall the app"
        return f"Slack answered {error or exc.response.status_code}"
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError):
        return f"Slack did not answer ({str(exc) or type(exc).__name__}): check the network or SLACK_API_URL"
    return None


def _slack_channel(exc: SlackApiError) -> str:
    args = getattr(exc.response, "req_args", None) or {}
    for part in ("json", "data", "params"):
        if isinstance(args.get(part), dict) and args[part].get("channel"):
            return str(args[part]["channel"])
    return "(unnamed)"


def explain(exc: BaseException) -> str | None:
    """The one line telling whoever runs leavebot what went wrong and what to do; None for a bug."""
    if isinstance(exc, ProviderAuthError):
        return exc.message  # an operator is reading: say what to check
    if isinstance(exc, UserError | ProviderError):
        return friendly(exc)
    if isinstance(exc, ParseError):
        return str(exc)
    if problem := slack_problem(exc):
        return problem
    return database_problem(exc)
