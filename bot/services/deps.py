"""What every service shares: the provider, the store, Slack, people, the company calendar and time zone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.services.calendar import Calendar, DigestPlan, work_calendar
from bot.services.people import People
from bot.store import Store
from bot.store.tables import LeaveRequest
from providers.base import ApprovalMode, LeaveProvider
from providers.models import Absence, Status


@dataclass
class Deps:
    """The parts services are built from; a service takes this, never another service's internals."""

    provider: LeaveProvider
    store: Store
    slack: AsyncWebClient | None
    people: People
    plan: DigestPlan  # the company calendar and what the team may see
    zone: tzinfo  # the company's time zone: what "today" is for someone whose zone is unknown
    _listings: dict[tuple[date, date], asyncio.Future[list[Absence]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def bot_kept(self) -> bool:
        """True where the bot holds requests until approved, and books them only then."""
        return self.provider.capabilities.approval is ApprovalMode.BOT

    async def request(self, request_id: int | None) -> LeaveRequest:
        """A stored request; UserError when it no longer exists."""
        row = await self.store.request(request_id=request_id) if request_id is not None else None
        if row is None:
            raise UserError("That leave request no longer exists.")
        return row

    def today_known(self, slack_user_id: str | None) -> date:
        """Today where this person is, as far as remembered, else in the company's zone: no I/O, for an ack."""
        zone = self.people.remembered_zone(slack_user_id) if slack_user_id else None
        return datetime.now(zone or self.zone).date()

    async def today_for(self, slack_user_id: str | None) -> date:
        """Today where this person is (their Slack time zone), else in the company's; no Slack call."""
        zone = await self.people.zone_of(slack_user_id, ask_slack=False) if slack_user_id else None
        return datetime.now(zone or self.zone).date()

    async def calendar(self, start: date, until: date | None = None) -> Calendar:
        """The company's working days from ``start`` (to ``until`` at least)."""
        return await work_calendar(self.provider, self.plan, start, until)

    async def absences(self, start: date, end: date) -> list[Absence]:
        """The provider's absences for these days; callers that need them while a call is out share that call.

        A burst of requests for one busy day (everyone asking for Christmas Eve) would otherwise list
        the same absences once per card, all at once, from a provider that may be slow and rate-limited.
        A finished call is not reused: a card refreshed later sees the absences as they are then.
        """
        calls = self._listings
        if (start, end) not in calls:
            call = calls[(start, end)] = asyncio.ensure_future(self.provider.absences(start, end))
            call.add_done_callback(lambda _: calls.pop((start, end), None))
        return await asyncio.shield(calls[(start, end)])

    async def approved(self, start: date, end: date) -> list[Absence]:
        """Approved absences touching ``start``..``end``, in one provider call: pending, declined and cancelled are not 'off'."""
        return [a for a in await self.provider.absences(start, end) if a.status == Status.APPROVED]

    async def absent_on(self, day: date) -> list[Absence]:
        """Approved absences covering ``day``."""
        return [a for a in await self.approved(day, day) if a.covers(day)]
