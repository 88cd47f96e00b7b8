"""Wire the real parts together from settings: database, provider, Slack client, services."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import slack_client
from bot.config import Settings, load_provider_config
from bot.jobs import Resume, run_forever, sync_forever
from bot.parsing import warm_up as warm_up_parser
from bot.services.calendar import DigestPlan
from bot.services.connect import AwayConfig
from bot.services.feeds import FeedPolicy
from bot.services.outbox import RetryPolicy
from bot.services.wiring import Services
from bot.store import Store, create_engine, in_background, upgrade
from providers import PROVIDERS, HttpProvider, LeaveProvider
from providers.local import LocalProvider

PROVIDER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def open_provider(settings: Settings, engine: AsyncEngine | None = None) -> LeaveProvider:
    """The configured provider, given what it works through: an HTTP client, or the bot's database."""
    provider_cls = PROVIDERS[settings.leavebot_provider]
    config = load_provider_config(settings)
    if issubclass(provider_cls, HttpProvider):
        # One client per provider; redirects are not followed (they mean an expired session, not a new home).
        return provider_cls(config, http=httpx.AsyncClient(timeout=PROVIDER_TIMEOUT))
    if issubclass(provider_cls, LocalProvider):
        return provider_cls(config, engine=engine)
    return provider_cls(config)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Services]:
    """A migrated database, the configured provider and Slack (when a token is set), closed afterwards."""
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    provider = open_provider(settings, engine)
    slack = slack_client(settings) if settings.slack_bot_token else None
    services = Services(
        provider=provider,
        store=Store(engine),
        slack=slack,
        zone=settings.zone,
        plan=DigestPlan.from_settings(settings),
        retry=RetryPolicy.leased(timedelta(seconds=settings.work_lease)),
        sync_interval=settings.sync_interval,
        escalate_to=settings.escalation_approver,
        away=AwayConfig.from_settings(settings),
        feeds=FeedPolicy.from_settings(settings),
    )
    try:
        yield services
    finally:
        await services.outbox.release()  # jobs cut short by the stop: any instance takes them at once
        await provider.aclose()
        await engine.dispose()


async def run_beside(services: Services, settings: Settings, *, resume: Resume | None = None) -> None:
    """Everything that runs beside the server, which listens first: the one-off warm-ups, then the job loop.

    Until the warm-ups are done a request still works: the first to need dateparser imports it, and a
    typed request cannot name a leave type before the types arrive from a slow HR system.
    """
    in_background()
    # dateparser's first call costs ~0.2 s of CPU: in a thread, beside the caches' reads over the network
    await asyncio.gather(asyncio.to_thread(warm_up_parser, settings.digest_country), services.warm_up())
    # What start-up allocated lives as long as the process: keep the collector from walking it under load
    # (a full collection over it was the slowest ack measured by benchmarks/ack.py).
    gc.collect()
    gc.freeze()
    await services.outbox.unpause()  # started, so Slack accepts the token: what waited for it goes out
    await asyncio.gather(run_forever(services, settings, resume=resume), sync_forever(services))
