"""The whole app on a remote provider, served over real HTTP: what every provider's end-to-end tests share.

async with provider_bot(provider, slack, tmp_path) as bot:
    preview = await bot.command("next friday pm")
    ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from conftest import Bot, fake_slack_settings
from fakes.slack import FakeSlack

from bot.app import create_app, slack_client
from bot.listeners import ListenerDeps
from bot.server import create_server
from bot.services.wiring import Services
from bot.store import Store, create_engine, upgrade
from bot.webhooks import WebhookReceiver
from providers.base import LeaveProvider


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free port of 127.0.0.1; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until an async ``check()`` holds, for work that runs after an answer."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def provider_bot(
    provider: LeaveProvider, slack: FakeSlack, tmp_path: Path, **settings: Any
) -> AsyncIterator[Bot]:
    """leavebot with ``LEAVEBOT_PROVIDER=<provider.name>`` on SQLite, served by uvicorn, talking to the fake Slack.

    Provider webhooks are served at ``/webhooks/<name>`` of ``bot.http.base_url``. The provider is
    closed afterwards. SQLite only: the Slack flow runs on both databases in test_e2e.py.
    """
    config = fake_slack_settings(
        slack,
        f"sqlite:///{tmp_path}/leavebot.db",
        leavebot_provider=provider.name,
        digest_channel="C0DIGEST",
        **settings,
    )
    engine = create_engine(config.database_url)
    await upgrade(engine)
    client = slack_client(config)
    service = Services(
        provider=provider,
        store=Store(engine),
        slack=client,
        zone=config.zone,
        escalate_to=config.escalation_approver,
    )
    await service.warm_up()  # as `leavebot serve` does
    listeners = ListenerDeps(services=service, settings=config)
    webhooks = WebhookReceiver(service)
    server = create_server(
        create_app(listeners, slack=client),
        service.deps.store,
        stopping=listeners.stop,
        webhooks=webhooks.receive,
    )
    try:
        async with serving(server) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
            yield Bot(http, slack, service, provider, config, listeners, webhooks=webhooks)  # type: ignore[arg-type]  # any provider
    finally:
        await provider.aclose()
        await engine.dispose()
