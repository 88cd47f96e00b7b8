"""The background loop of `leavebot serve`: provider calls owed, the daily digest, reminders and housekeeping, claimed in the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.services.calendar import DigestPlan
from bot.services.digest import post_digest
from bot.services.reminders import ReminderPlan
from bot.services.wiring import Services
from bot.store.tables import now

log = logging.getLogger(__name__)

Resume = Callable[[AsyncWebClient], Awaitable[int]]  # ``ListenerDeps.resume_abandoned``

TICK = 5.0  # seconds between checks: a queued provider call is retried within this of being due
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
    await services.deps.store.forget_deliveries(before=moment - DELIVERY_MEMORY)


async def run_forever(services: Services, settings: Settings, *, resume: Resume | None = None) -> None:
    """Tick until cancelled; a failed tick is logged and the next one tries again."""
    while True:
        try:
            await tick(services, settings, now(), resume=resume)
        except Exception:  # the loop must outlive any one failure; the claim makes the retry safe
            log.exception("background job failed; retrying in %.0f s", TICK)
        await asyncio.sleep(TICK)


async def sync_forever(services: Services) -> None:
    """Keep the absence mirror in step (a pass when one is due), apart from the job loop: a long pass over a
    slow HR system must not hold up the retries and reminders."""
    while True:
        try:
            await services.sync.run_due(now())
        except Exception:  # the lease makes the next pass safe
            log.exception("sync pass failed; retrying in %.0f s", TICK)
        await asyncio.sleep(TICK)
