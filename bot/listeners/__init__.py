"""Thin Bolt listeners: ack, then call one service and answer in the background. Each module has ``register(app, deps)``.

The app runs with ``process_before_response=True``, so Slack gets its answer as soon as a listener
returns; the work after the ack goes to :meth:`Deps.after_ack` and never delays the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.errors import UserError, friendly
from bot.services.requests import LeaveService
from providers.errors import ProviderAuthError, ProviderError

log = logging.getLogger(__name__)


DELIVERY = "leavebot_delivery"  # context key: the task recording a first delivery (see bot.app)
Work = Coroutine[Any, Any, None]


@dataclass(frozen=True)
class Deps:
    """What listeners need: the service, the settings, and the work running after acks."""

    service: LeaveService
    settings: Settings
    tasks: set[asyncio.Task[Any]] = field(default_factory=set, compare=False)

    def today(self) -> date:
        """Today in the company's time zone."""
        return datetime.now(self.settings.zone).date()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` as a task the app holds on to until it ends (the loop keeps only weak references)."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background work failed", exc_info=error)

    def after_ack(
        self, context: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, work: Work
    ) -> None:
        """Do ``work`` after the ack: once per Slack delivery, with any failure told to the user behind ``body``."""
        self.spawn(_once(context.get(DELIVERY), work, body, client))


async def _once(
    delivery: asyncio.Task[bool] | None, work: Work, body: dict[str, Any], client: AsyncWebClient
) -> None:
    try:
        async with reporting_errors(body, client):
            # False: another copy of this delivery (a retry, maybe on another instance) was recorded first.
            if delivery is None or await delivery:
                await work
    finally:
        work.close()  # a no-op once awaited; a coroutine never started would warn when collected


async def report_error(error: BaseException, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Log what operators must see, and tell the user behind ``body`` in plain words."""
    if isinstance(error, ProviderAuthError):
        log.error(
            "%s refused leavebot's credentials: check the %s_* settings",
            error.provider,
            error.provider.upper(),
        )
    elif not isinstance(error, UserError | ProviderError):
        log.error("unexpected error handling a Slack request", exc_info=error)
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    response_url = body.get("response_url")
    if response_url:
        await AsyncWebhookClient(response_url).send(
            text=friendly(error), response_type="ephemeral", replace_original=False
        )
    elif user:
        await client.chat_postMessage(channel=user, text=friendly(error))


@asynccontextmanager
async def reporting_errors(body: dict[str, Any], client: AsyncWebClient) -> AsyncIterator[None]:
    """Wrap the work done after an ack, so every failure reaches the user.

    Bolt's error handler only sees what fails before a listener returns; the work
    after the ack runs in its own task (:meth:`Deps.after_ack`), so it reports here.
    """
    try:
        yield
    except Exception as error:  # the one boundary between a listener's work and the user
        await report_error(error, body, client)
