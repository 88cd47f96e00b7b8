"""Fixtures: both databases, the fake Slack, and the real app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import slack_requests as sr
import uvicorn
from fakes.slack import FakeSlack

from bot.app import create_app, slack_client
from bot.config import Settings
from bot.ical_route import FeedRoute
from bot.listeners import ListenerDeps
from bot.server import create_server
from bot.services.feeds import FeedPolicy
from bot.services.wiring import Services
from bot.store import Store, create_engine, upgrade
from bot.webhooks import WebhookReceiver
from providers.local import LocalProvider
from providers.models import Booking, HolidayRequest, LeaveType, Outcome

SECRET = "test-signing-secret"
POSTGRES_URL = os.environ.get("LEAVEBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ALICE, BOB, CAROL, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0MALLORY"
USERS = {
    ALICE: ("alice@example.com", "Alice Archer"),
    BOB: ("bob@example.com", "Bob Boss"),
    CAROL: ("carol@example.com", "Carol Chief"),
    MALLORY: ("mallory@example.com", "Mallory Meddler"),
}
APPROVERS = "*=bob@example.com,carol@example.com"
# What the fault-injection tests tried and what the provider ended up holding; printed after the run.
# ``reposted``: approval cards (or their edits) Slack took just before a kill, sent again by the next instance.
FIGURES: Counter[str] = Counter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist each worker counts its own figures: hand them to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["figures"] = dict(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    FIGURES.update(getattr(node, "workeroutput", {}).get("figures", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The reliability figures: requests tried under faults, refused, duplicated (must be 0), lost (must be 0),
    and cards reposted after a kill."""
    if FIGURES:
        terminalreporter.section("reliability figures")
        terminalreporter.write_line(
            ", ".join(f"{k} {FIGURES[k]}" for k in ("tried", "refused", "duplicated", "lost", "reposted"))
        )


def _postgres_reachable() -> bool:
    parts = urlsplit(POSTGRES_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1):
            return True
    except OSError:
        return False


POSTGRES_UP = _postgres_reachable()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/leavebot.db"
        return
    if not POSTGRES_UP:
        pytest.skip(
            f"PostgreSQL is not reachable at {POSTGRES_URL}: this PostgreSQL storage test was SKIPPED"
        )
    name = f"leavebot_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    parts = urlsplit(POSTGRES_URL)
    yield f"postgresql+asyncpg://{parts.netloc}/{name}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store."""
    engine = create_engine(database_url)
    await upgrade(engine)
    yield Store(engine)
    await engine.dispose()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack Web API, knowing Alice (requester), Bob and Carol (approvers) and Mallory."""
    with FakeSlack() as fake:
        for user_id, (email, name) in USERS.items():
            fake.add_user(user_id, email=email, name=name.split()[0].lower(), real_name=name)
        yield fake


class SpyProvider(LocalProvider):
    """The real local provider, counting its actions and failing on demand (a provider outage).

    ``failures["submit"] = [error, error]`` makes the next two submissions raise ``error``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()
        self.failures: dict[str, list[Exception]] = {}

    def _called(self, name: str) -> None:
        self.calls[name] += 1
        if self.failures.get(name):
            raise self.failures[name].pop(0)

    async def leave_types(self) -> list[LeaveType]:
        self._called("leave_types")
        return await super().leave_types()

    async def submit(self, request: HolidayRequest) -> Booking:
        self._called("submit")
        return await super().submit(request)

    async def approve(self, booking_id: str) -> Outcome:
        self._called("approve")
        return await super().approve(booking_id)

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        self._called("decline")
        return await super().decline(booking_id, reason)

    async def cancel(self, booking_id: str) -> Outcome:
        self._called("cancel")
        return await super().cancel(booking_id)


@dataclass
class Bot:
    """The running app and ways to talk to it as Slack does."""

    http: httpx.AsyncClient
    slack: FakeSlack
    service: Services
    provider: SpyProvider
    settings: Settings
    listeners: ListenerDeps
    webhooks: WebhookReceiver | None = field(default=None, kw_only=True)

    async def drain(self) -> None:
        """Wait for all the work started after acks, and after answered webhooks, to end (before asserting
        that something did not happen)."""
        await self.listeners.backlog.drain()
        if self.webhooks:
            await self.webhooks.drain()
            await self.listeners.backlog.drain()

    async def post(
        self,
        body: str,
        *,
        json_body: bool = False,
        timestamp: int | None = None,
        secret: str = SECRET,
        retry_num: int | None = None,
    ) -> httpx.Response:
        """POST a body to /slack/events, signed as Slack signs it."""
        content_type = "application/json" if json_body else "application/x-www-form-urlencoded"
        headers = sr.signed_headers(
            body, secret, timestamp=timestamp, content_type=content_type, retry_num=retry_num
        )
        return await self.http.post("/slack/events", content=body, headers=headers)

    def response_url(self, name: str) -> str:
        """A response_url on the fake, unique per name."""
        return self.slack.response_url(name)

    async def command(
        self, text: str, *, user: str = ALICE, hook: str = "command", **kwargs: Any
    ) -> httpx.Response:
        """Type `/leave <text>`; answers sent later go to the response_url named ``hook``."""
        body = sr.slash_command(text, user_id=user, response_url=self.response_url(hook), **kwargs)
        return await self.post(body)

    async def click(
        self, action_id: str, value: str, *, user: str, hook: str = "click", **kwargs: Any
    ) -> httpx.Response:
        """Press a button."""
        payload = sr.block_action(
            user_id=user, action_id=action_id, value=value, response_url=self.response_url(hook), **kwargs
        )
        return await self.post(sr.interactive(payload))

    async def submit_view(
        self, callback_id: str, values: dict[str, Any], *, user: str, **kwargs: Any
    ) -> httpx.Response:
        """Submit a modal."""
        payload = sr.view_submission(user_id=user, callback_id=callback_id, values=values, **kwargs)
        return await self.post(sr.interactive(payload))


def fake_slack_settings(slack: FakeSlack, database_url: str, **changes: Any) -> Settings:
    """Settings of a leavebot signed with ``SECRET``, talking to the fake Slack, on ``database_url`` (no .env)."""
    return Settings(
        _env_file=None,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        database_url=database_url,
        **changes,
    )


@pytest.fixture
async def bot(database_url: str, slack: FakeSlack, request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    """leavebot on the local provider, served over real HTTP by uvicorn, talking to the fake Slack.

    ``@pytest.mark.bot(approvers=..., escalation_approver=..., public_url=..., team_feeds=...)`` sets its
    LOCAL_APPROVERS (default ``APPROVERS``), ESCALATION_APPROVER, LEAVEBOT_PUBLIC_URL (with which it serves
    the calendar feeds, as `leavebot serve` does) and ICAL_TEAM_FEEDS.
    """
    marker = request.node.get_closest_marker("bot")
    options = marker.kwargs if marker else {}
    settings = fake_slack_settings(
        slack,
        database_url,
        digest_channel="C0DIGEST",
        escalation_approver=options.get("escalation_approver"),
        leavebot_public_url=options.get("public_url"),
        ical_team_feeds=options.get("team_feeds", "everyone"),
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    approvers = options.get("approvers", APPROVERS)
    provider = SpyProvider(LocalProvider.Config(approvers=approvers), engine=engine)
    client = slack_client(settings)
    service = Services(
        provider=provider,
        store=Store(engine),
        slack=client,
        zone=settings.zone,
        escalate_to=settings.escalation_approver,
        feeds=FeedPolicy.from_settings(settings),
    )
    await service.warm_up()  # as `leavebot serve` does
    provider.calls.clear()  # counted from the first request on: the start-up's read of leave types is not one
    listeners = ListenerDeps(services=service, settings=settings)
    app = create_app(listeners, slack=client)
    feeds = FeedRoute(service.feeds).get if settings.leavebot_public_url else None
    server = create_server(app, service.deps.store, stopping=listeners.stop, feeds=feeds)
    async with served_on_loopback(server) as http:
        yield Bot(
            http=http, slack=slack, service=service, provider=provider, settings=settings, listeners=listeners
        )
    await engine.dispose()


@asynccontextmanager
async def served_on_loopback(asgi: Any) -> AsyncIterator[httpx.AsyncClient]:
    """``asgi`` served by uvicorn on a free port of 127.0.0.1 while the block runs, and a client of it."""
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning", ws="none"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        await serving
