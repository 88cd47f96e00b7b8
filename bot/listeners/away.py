"""Leave in one's Slack status: the App Home's opt-in and Disconnect, and Slack's tokens_revoked / app_uninstalled."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import ListenerDeps
from bot.views import ids

log = logging.getLogger(__name__)

DISCONNECTED = "Disconnected: leavebot no longer sets your Slack status or Do Not Disturb."


def register(app: AsyncApp, deps: ListenerDeps) -> None:
    """Attach the opt-in buttons and the token events (nothing when statuses are not set up)."""
    connections, homes, away = deps.services.connections, deps.services.homes, deps.services.away

    @app.action(ids.HOME_AWAY_LINK)
    async def link_opened(ack: AsyncAck) -> None:
        await ack()  # a URL button: the browser does the work, Slack only wants its click acknowledged

    if connections is None or away is None:
        return

    @app.action(ids.HOME_AWAY_CONNECT)
    async def connect(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        deps.after_ack(context, body, client, partial(offer_link, deps, body["user"]["id"]))

    @app.action(ids.HOME_AWAY_DISCONNECT)
    async def disconnect(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        user = body["user"]["id"]

        async def work() -> None:
            await away.disconnect(user)
            await homes.publish(user, notice=DISCONNECTED)

        deps.after_ack(context, body, client, work)

    @app.event("tokens_revoked")
    async def tokens_revoked(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        users = [u for u in (event.get("tokens") or {}).get("oauth") or [] if isinstance(u, str)]
        if users:
            deps.after_ack(context, body, client, partial(forget, deps, users))

    @app.event("app_uninstalled")
    async def app_uninstalled(
        body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        deps.after_ack(context, body, client, partial(forget, deps, None))


async def offer_link(deps: ListenerDeps, user: str) -> None:
    """Publish the Home with Slack's consent link, just made for this person."""
    connections = deps.services.connections
    assert connections is not None
    await deps.services.homes.publish(user, link=await connections.authorize_url(user))


async def forget(deps: ListenerDeps, users: list[str] | None) -> None:
    """Delete the tokens Slack says are revoked (None: every one, the app was uninstalled)."""
    connections = deps.services.connections
    assert connections is not None
    gone = await connections.disconnect(users)
    whose = ", ".join(users) if users is not None else "everyone (the app was uninstalled)"
    log.info("Slack revoked %d user token(s), of %s: their statuses are no longer set", gone, whose)
