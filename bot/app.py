"""The app factory: a Bolt AsyncApp built from what it is given, nothing read from the environment."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.config import Settings
from bot.listeners import DELIVERY, ListenerDeps, actions, away, commands, events, report_error, views
from bot.services.deps import Deps


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: Slack's own URL or a fake's, retrying politely when rate limited."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


OAUTH_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")


@contextmanager
def bolt_blind_to_oauth() -> Iterator[None]:
    """Hide SLACK_CLIENT_ID / SLACK_CLIENT_SECRET from the environment while Bolt builds the app.

    Finding both, AsyncApp turns itself into a multi-workspace app with file-based installation stores
    and stops using the bot token (slack_bolt 1.30, ``AsyncApp.__init__``). leavebot is one workspace's
    app; the credentials only serve the user-token flow it runs itself (bot/oauth.py). Building the app
    awaits nothing, so no other task can see the environment without them.
    """
    hidden = {name: os.environ.pop(name) for name in OAUTH_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(hidden)


class DropRedeliveries(AsyncMiddleware):
    """Slack retries a delivery it thinks failed; the event id (or trigger id) is the same each time.

    Only a retry waits for the database here, to drop one whose first delivery was recorded. A first
    delivery is recorded by its listener before the ack when its work changes leave
    (``ListenerDeps.durable``), else by its work after the ack (``ListenerDeps.after_ack``): either
    way the work is done once, and an ack that only answers is never held up by the database.
    A class rather than a function middleware: Bolt builds every listener argument for a function
    middleware on each request (~20 µs), and this one needs only the request.
    """

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        """Drop a retry already seen; remember the delivery's key for the listener and the log."""
        body, context = req.body, req.context
        key = body.get("event_id") or body.get("trigger_id")
        retry = req.headers.get("x-slack-retry-num")
        if key and retry and await self.deps.store.delivery_seen(key=key):
            return BoltResponse(status=200, body="")
        if key:
            context[DELIVERY] = key
        logs.remember(slack=key, user=context.user_id)
        return await next()


def create_app(deps: ListenerDeps, *, slack: AsyncWebClient, socket_mode: bool = False) -> AsyncApp:
    """Build the Bolt app with every listener, the retry filter and the error handler.

    ``deps.backlog`` holds the work after acks (``Backlog.drain`` waits for it), and once the listeners
    are attached ``deps.resume_abandoned`` can resume the accepted work of an instance that died.
    """
    services, settings = deps.services, deps.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    # Answer Slack as soon as a listener returns: listeners ack and hand their work to deps.after_ack,
    # instead of Bolt's default of polling every 10 ms for an ack made in a separate task.
    with bolt_blind_to_oauth():
        app = AsyncApp(
            client=slack,
            signing_secret=secret,
            request_verification_enabled=not socket_mode,
            process_before_response=True,
        )

    app.use(DropRedeliveries(services.deps))
    for listeners in (commands, actions, views, events, away):
        listeners.register(app, deps)

    @app.error
    async def tell_the_user(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        await report_error(error, body, client)

    return app
