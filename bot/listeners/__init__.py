"""Thin Bolt listeners: ack, call one service, answer. Each module has ``register(app, deps)``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.errors import UserError, friendly
from bot.services.requests import LeaveService
from providers.errors import ProviderAuthError, ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What listeners need: the service and the settings."""

    service: LeaveService
    settings: Settings

    def today(self) -> date:
        """Today in the company's time zone."""
        return datetime.now(self.settings.zone).date()


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
    """Wrap the work a listener does after its ack, so every failure reaches the user.

    Bolt's own error handler is not enough after an ack: an exception raised
    within ~10 ms of ``ack()`` makes slack_bolt 1.30 forget the ack, wait 3 s
    and answer Slack 404 (asyncio_runner resets ``ack.response`` to None).
    """
    try:
        yield
    except Exception as error:  # the one boundary between a listener's work and the user
        await report_error(error, body, client)
