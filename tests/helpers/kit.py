"""What each provider's test file declares once: its fake, the settings that point the provider at it, and a
request's defaults; from them the ``fake`` and ``provider`` fixtures, ``connect``, ``request_for`` and the bot.

KIT = ProviderKit(WhosOffProvider, FakeWhosOff, lambda fake: {"base_url": fake.url, ...}, DAY, HOLIDAY_TYPE)
fake, provider = KIT.fixtures()
connect, request_for = KIT.connect, KIT.request_for
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pytest
from fakes.loopback import Loopback
from fakes.slack import FakeSlack
from remote_bot import provider_bot

from helpers.bots import ProviderBot
from providers.base import LeaveProvider
from providers.models import HolidayRequest, LeaveType, Part

P = TypeVar("P", bound=LeaveProvider)
F = TypeVar("F", bound=Loopback)


@dataclass(frozen=True)
class ProviderKit(Generic[P, F]):
    """One provider's class and fake, how to point one at the other, and what a test request asks for."""

    provider: type[P]
    fake: type[F]
    settings: Callable[[F], dict[str, Any]]  # the Config fields that point the provider at a started fake
    day: date  # a request's day unless told
    leave_type: LeaveType | None
    reason: str = "tests"

    def connect(self, fake: F, *, http: httpx.AsyncClient | None = None, **config: Any) -> P:
        """A provider talking to ``fake`` (through ``http`` when given), its settings overridden by ``config``."""
        settings = self.provider.Config(**(self.settings(fake) | config))  # type: ignore[call-arg]
        return self.provider(settings, http=http or httpx.AsyncClient(timeout=10))  # type: ignore[call-arg]

    async def request_for(
        self,
        provider: P,
        email: str = "alice@example.com",
        start: Part = "AM",
        end: Part = "PM",
        *,
        day: date | None = None,
        **kwargs: Any,
    ) -> HolidayRequest:
        """A request on ``day`` (the kit's, through ``end_date`` when given) for the person with ``email``."""
        person = await provider.find_person(email)
        first = day or self.day
        values = {
            "start_date": first,
            "end_date": first,
            "leave_type": self.leave_type,
            "reason": self.reason,
        }
        return HolidayRequest(requester=person, start=start, end=end, **(values | kwargs))

    def fixtures(self) -> tuple[Any, Any]:
        """The ``fake`` (a fresh one, started) and ``provider`` (connected to it, closed after) fixtures."""

        @pytest.fixture(name="fake")
        def fake_fixture() -> Iterator[F]:
            with self.fake() as server:
                yield server

        @pytest.fixture(name="provider")
        async def provider_fixture(fake: F) -> AsyncIterator[P]:
            provider = self.connect(fake)
            yield provider
            await provider.aclose()

        return fake_fixture, provider_fixture

    @asynccontextmanager
    async def bot(
        self, slack: FakeSlack, tmp_path: Path, fake: F | None = None, **config: Any
    ) -> AsyncIterator[ProviderBot[F]]:
        """leavebot on this provider, served by uvicorn, talking to the fake Slack and ``fake`` (a fresh one unless
        given), the provider's settings overridden by ``config``."""
        started: AbstractContextManager[F] = self.fake() if fake is None else nullcontext(fake)
        with started as server:
            async with provider_bot(self.connect(server, **config), slack, tmp_path) as bot:
                yield ProviderBot(**vars(bot), fake=server)
