"""The background loop of `leavebot serve`: provider calls owed, the daily digest, reminders and housekeeping, claimed in the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import DBAPIError

from bot.config import Settings
from bot.services.calendar import DigestPlan
from bot.services.digest import post_digest
from bot.services.reminders import ReminderPlan
from bot.services.wiring import Services
from bot.store.tables import now

log = logging.getLogger(__name__)

Resume = Callable[[AsyncWebClient], Awaitable[int]]  # ``ListenerDeps.resume_abandoned``

TICK = 5.0  # seconds between checks: a queued provider call is retried within this of being due
OUTAGE_WAIT = 60.0  # the longest wait between tries while the database is down
LATE_LIMIT = timedelta(hours=3)  # an instance started long after DIGEST_TIME doesn't post a stale digest
DELIVERY_MEMORY = timedelta(hours=1)  # Slack's retries come within minutes


def digest_due(settings: Settings, moment: datetime) -> bool:
    """True on a DIGEST_DAYS day, from DIGEST_TIME until a few hours after it, in DIGEST_TIMEZONE.

    Public holidays are looked at once the digest is claimed (they may take a provider call).
    """
    local = moment.astimezone(settings.zone)
    due = local.replace(
        hour=settings.digest_time.hour, minute=settings.digest_time.minute, second=0, microsecond=0
    )
    return local.weekday() in settings.digest_days and due <= local < due + LATE_LIMIT


async def tick(
    services: Services, settings: Settings, moment: datetime, *, resume: Resume | None = None
) -> None:
    """One round of background work; ``resume`` takes over the Slack deliveries a dead instance accepted."""
    if resume and services.deps.slack:
        await resume(services.deps.slack)
    await services.outbox.retry_due()
    if settings.digest_routes and digest_due(settings, moment):
        day = moment.astimezone(settings.zone).date()
        await post_digest(services.deps, day=day, plan=DigestPlan.from_settings(settings))
    await services.reminders.send(ReminderPlan.from_settings(settings), moment)
    if services.away:
        await services.away.run(moment)
    await services.deps.store.forget_deliveries(before=moment - DELIVERY_MEMORY)


async def run_forever(services: Services, settings: Settings, *, resume: Resume | None = None) -> None:
    """Tick until cancelled; a failed tick is logged and the next one tries again."""
    await forever("background job", lambda: tick(services, settings, now(), resume=resume))


async def sync_forever(services: Services) -> None:
    """Keep the absence mirror in step (a pass when one is due), apart from the job loop: a long pass over a
    slow HR system must not hold up the retries and reminders. A SYNC_INTERVAL under a tick is checked
    that often."""
    every = min(TICK, services.sync.interval.total_seconds())
    await forever("sync pass", lambda: services.sync.run_due(now()), every=every)


async def forever(what: str, step: Callable[[], Awaitable[object]], *, every: float = TICK) -> None:
    """Run ``step`` every ``every`` seconds until cancelled. While the database is down: one warning when
    the outage starts, one when it ends, and tries backing off to OUTAGE_WAIT, not a traceback each time."""
    down_since: datetime | None = None
    wait = every
    while True:
        try:
            await step()
        except Exception as exc:  # the loop must outlive any one failure; the claim makes a retry safe
            if not _database_down(exc):
                log.exception("%s failed; retrying in %.0f s", what, every)
            elif down_since is None:
                down_since = now()
                log.warning(
                    "%s: the database is not answering (%s); retrying with backoff", what, _short(exc)
                )
            if down_since is not None:
                wait = min(wait * 2, max(OUTAGE_WAIT, every))
        else:
            if down_since is not None:
                log.warning(
                    "%s: the database is back after %.0f s", what, (now() - down_since).total_seconds()
                )
            down_since, wait = None, every
        await asyncio.sleep(wait)


def _database_down(exc: BaseException) -> bool:
    """True for the database unreachable: a driver error, or a socket refused (not Slack's or an HR system's)."""
    return isinstance(exc, DBAPIError) or (
        isinstance(exc, OSError) and not isinstance(exc, aiohttp.ClientError)
    )


def _short(exc: BaseException) -> str:
    """The first line of the driver's own error, without the SQL statement SQLAlchemy appends."""
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).splitlines() or [type(cause).__name__])[0][:200]
