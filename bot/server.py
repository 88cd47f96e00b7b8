"""The HTTP face: POST /slack/events for Slack, POST /webhooks/<provider> for the HR system, GET /healthz."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from urllib.parse import parse_qsl

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import payloads
from bot.store import Store

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes; Slack's largest payloads (a big modal's state) are a small part of this


def create_server(
    app: AsyncApp,
    store: Store,
    *,
    background: Callable[[], Awaitable[None]] | None = None,
    webhooks: Callable[[Request], Awaitable[Response]] | None = None,
    stopping: Callable[[], Awaitable[None]] | None = None,
    provider: str | None = None,
    oauth_redirect: Callable[[Request], Awaitable[Response]] | None = None,
    feeds: Callable[[Request], Awaitable[Response]] | None = None,
) -> Starlette:
    """The ASGI app; ``background`` (the job loop) runs for as long as the server does.

    ``stopping`` (``ListenerDeps.stop``) runs once the server takes no more requests and the job loop has
    stopped (so it cannot resume what is being handed back): the work after the last acks finishes, or is
    handed back for another instance.

    ``webhooks`` (``bot.webhooks.WebhookReceiver.receive``) answers ``POST /webhooks/{provider}``; without it
    that path is 404. ``provider`` names whose last sync pass ``/healthz`` reports. ``oauth_redirect``
    (``bot.oauth.OAuthRedirect.answer``) answers ``GET /slack/oauth_redirect``, where Slack sends someone back after
    allowing leavebot to set their status; without it that path is 404.
    """

    async def slack_events(request: Request) -> Response:
        body = await read_capped(request)
        if body is None:
            return PlainTextResponse("request too large", status_code=413)
        try:
            bolt_request = repair_form_body(to_async_bolt_request(request, body))
            # Bolt's own middleware reads the body's shape before any listener (or middleware of ours)
            # runs, so a body of a shape Slack never sends is refused here, before it breaks anything.
            payloads.check(bolt_request.body)
            return to_starlette_response(await app.async_dispatch(bolt_request))
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, payloads.Refused) else f"{type(exc).__name__}: {exc}"
            log.warning("refused a malformed Slack request (%s)", reason[:200])
            return PlainTextResponse("malformed request", status_code=400)

    async def no_webhooks(_: Request) -> Response:
        return PlainTextResponse("no such webhook", status_code=404)

    async def no_oauth(_: Request) -> Response:
        return PlainTextResponse("not found", status_code=404)

    async def healthz(_: Request) -> Response:
        try:
            async with store.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            state = await store.sync_state(provider=provider) if provider else None
        except (SQLAlchemyError, OSError):
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        # An HR system that is down is not this instance's ill health: it still answers from the mirror.
        synced = state.near_at if state else None
        return JSONResponse({"ok": True, "last_sync": synced.isoformat() if synced else None})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(background()) if background else None
        yield
        if task:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        if stopping:
            await stopping()

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/webhooks/{provider}", webhooks or no_webhooks, methods=["POST"]),
        Route("/slack/oauth_redirect", oauth_redirect or no_oauth, methods=["GET"]),
    ]
    if feeds is not None:  # ``bot.ical_route.FeedRoute.get``: GET /ical/<secret>.ics
        routes.append(Route("/ical/{name}", feeds, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The request body, or None once it is longer than ``limit`` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def repair_form_body(request: AsyncBoltRequest) -> AsyncBoltRequest:
    """Re-read a slash command that slack_bolt 1.30 parsed as empty.

    Bolt takes any form body containing the word "payload" for an interactive
    payload, so `/leave payload release week` would reach no listener (404).
    """
    if request.body or "payload" not in request.raw_body or request.raw_body.startswith("{"):
        return request
    form = dict(parse_qsl(request.raw_body, keep_blank_values=True))
    if "command" in form and "payload" not in form:
        request.body = form
        request.context = build_async_context(AsyncBoltContext({}), form)
    return request
