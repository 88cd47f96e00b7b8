"""The App Home: published when someone opens it, and its buttons (Request leave, Approve, Decline, Cancel).

A button in the Home tab has no ``response_url`` (its container is the view): what the clicker
must be told (already decided, not yours to decide…) is shown on top of their Home, published again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import RequestState
from bot.errors import UserError, friendly
from bot.listeners import ListenerDeps
from bot.listeners.actions import already_decided, cancelled_text, decided_text
from bot.listeners.commands import open_request_modal
from bot.views import ids
from bot.views import requests as views
from providers.errors import ProviderAuthError, ProviderError
from providers.models import Decision

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: ListenerDeps) -> None:
    """Attach the App Home's event and buttons."""

    @app.event("app_home_opened")
    async def home_opened(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("tab", "home") == "home":
            # No one to tell on failure here: reporting_errors logs it (events are acked at once).
            work = partial(deps.services.homes.publish, event["user"])
            deps.after_ack(context, body, client, work)

    @app.action(ids.HOME_REQUEST)
    async def request_leave(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        work = partial(
            open_request_modal, client, deps, trigger_id=body["trigger_id"], user_id=body["user"]["id"]
        )
        deps.after_ack(context, body, client, work, urgent=True)

    app.action(ids.HOME_APPROVE)(deps.durable("approve_in_home", approve_in_home))

    @app.action(ids.HOME_DECLINE)
    async def decline(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        work = partial(ask_decline_reason, deps, body, int(action["value"]), client)
        answer = partial(answer_in_home, deps, body["user"]["id"], work)
        deps.after_ack(context, body, client, answer, urgent=True)

    app.action(ids.HOME_CANCEL)(deps.durable("cancel_in_home", cancel_in_home))

    @app.action(ids.FEED_ROTATE)
    async def new_feed_link(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        user_id = body["user"]["id"]

        async def rotate() -> str:
            await deps.services.feeds.rotate(user_id, str(action.get("value", "")))
            return "Here is a new link; the old one no longer works."

        deps.after_ack(context, body, client, partial(answer_in_home, deps, user_id, rotate))


async def answer_in_home(deps: ListenerDeps, user_id: str, work: Callable[[], Awaitable[str | None]]) -> None:
    """Do a Home button's work; show what the clicker must be told on top of their Home."""
    try:
        notice = await work()
    except (UserError, ProviderError) as error:
        if isinstance(error, ProviderAuthError):
            log.error(
                "%s refused leavebot's credentials: check the %s_* settings",
                error.provider,
                error.provider.upper(),
            )
        notice = friendly(error)
    if notice:
        await deps.services.homes.publish(user_id, notice=notice)


async def approve_in_home(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Approve once (the service refreshes every Home concerned); tell a late clicker who decided."""
    user_id, request_id = body["user"]["id"], int(body["actions"][0]["value"])

    async def approve() -> str | None:
        requests = deps.services.requests
        return decided_text(
            await requests.decide(request_id=request_id, slack_user_id=user_id, decision=Decision.APPROVE)
        )

    await answer_in_home(deps, user_id, approve)


async def ask_decline_reason(
    deps: ListenerDeps, body: dict[str, Any], request_id: int, client: AsyncWebClient
) -> str | None:
    """Open the decline modal for a real approver of a still-pending request."""
    request = await deps.services.requests.authorise(request_id=request_id, slack_user_id=body["user"]["id"])
    if request.status != RequestState.PENDING:
        return already_decided(request)
    await client.views_open(trigger_id=body["trigger_id"], view=views.decline_modal(request))
    return None


async def cancel_in_home(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Cancel one's own leave (the service refreshes every Home concerned)."""
    user_id, request_id = body["user"]["id"], int(body["actions"][0]["value"])

    async def cancel() -> str | None:
        requests = deps.services.requests
        return cancelled_text(await requests.cancel(request_id=request_id, slack_user_id=user_id))

    await answer_in_home(deps, user_id, cancel)
