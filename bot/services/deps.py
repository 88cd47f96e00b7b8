"""What every service shares: the provider, the store, Slack, people, the company calendar and time zone."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.services.calendar import Calendar, DigestPlan, KeptHolidays, work_calendar
from bot.services.people import People
from bot.store import Store, in_background
from bot.store.tables import LeaveRequest, now
from providers.base import ApprovalMode, LeaveProvider
from providers.errors import ProviderError
from providers.models import Absence, LeaveType, Person, Status

__all__ = ["Deps", "in_background"]  # in_background: for the work listeners start after acks

log = logging.getLogger(__name__)

LEAVE_TYPES_TTL = 300.0  # seconds; leave types rarely change and the modal must open within 3 s


@dataclass
class Deps:
    """The parts services are built from; a service takes this, never another service's internals."""

    provider: LeaveProvider
    store: Store
    slack: AsyncWebClient | None
    people: People
    plan: DigestPlan  # the company calendar and what the team may see
    zone: tzinfo  # the company's time zone: what "today" is for someone whose zone is unknown
    sync_interval: timedelta = timedelta(minutes=5)  # how often the absence mirror is brought in step
    holidays: KeptHolidays = field(init=False, repr=False)  # the provider's public holidays, kept
    _listings: dict[tuple[date, date], asyncio.Future[list[Absence]]] = field(
        default_factory=dict, repr=False
    )
    # never fetched: -inf, as monotonic time starts at boot (0.0 is not 'long ago' on a fresh machine)
    _leave_types: tuple[float, list[LeaveType]] = field(default=(-math.inf, []), repr=False)
    _types_tried_at: float = field(default=-math.inf, repr=False)  # by `shown`, while never listed

    def __post_init__(self) -> None:
        self.holidays = KeptHolidays(self.provider)

    @property
    def bot_kept(self) -> bool:
        """True where the bot holds requests until approved, and books them only then."""
        return self.provider.capabilities.approval is ApprovalMode.BOT

    @property
    def holds_approval(self) -> bool:
        """True where a request is decided only through leavebot: kept by the bot, or on the local provider."""
        return self.bot_kept or not self.provider.decides_elsewhere

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

    async def leave_types(self, *, fresh_for: float = LEAVE_TYPES_TTL) -> list[LeaveType]:
        """The provider's leave types, listed again once older than ``fresh_for`` seconds."""
        fetched_at, types = self._leave_types
        if time.monotonic() - fetched_at > fresh_for:
            types = await self.provider.leave_types()
            self._leave_types = (time.monotonic(), types)
        return types

    def cached_leave_types(self) -> list[LeaveType]:
        """The leave types fetched last, without any I/O (for work done before the ack)."""
        return self._leave_types[1]

    def types_known(self) -> bool:
        """True once the provider's leave types were listed (however long ago): no I/O."""
        return self._leave_types[0] > -math.inf

    async def refresh_leave_types(self) -> None:
        """List the leave types again (the sync does, with the holidays); a failure keeps what was known."""
        try:
            await self.leave_types(fresh_for=0.0)
        except ProviderError as exc:
            log.warning("could not read leave types from %s: %s", self.provider.display_name, exc)

    async def shown(self, absences: Sequence[Absence], plan: DigestPlan | None = None) -> list[Absence]:
        """Absences as the team may see them: PRIVATE_LEAVE_TYPES' and the types the HR system marks private
        become "Out of office". The types are those known (listed if never, tried at most every few minutes
        while the HR system fails: `/leave who` does not wait for it each time)."""
        if not self.types_known() and time.monotonic() - self._types_tried_at > LEAVE_TYPES_TTL:
            self._types_tried_at = time.monotonic()
            await self.refresh_leave_types()
        return (plan or self.plan).shown(absences, marked=self.marked_private())

    def marked_private(self) -> frozenset[str]:
        """Names (lower-cased) of the leave types the HR system marks private, as last listed: no I/O."""
        return frozenset(t.name.lower() for t in self.cached_leave_types() if t.private)

    async def calendar(
        self, start: date, until: date | None = None, *, plan: DigestPlan | None = None
    ) -> Calendar:
        """The company's working days from ``start`` (to ``until`` at least), and each person's where the HR
        system says whose public holidays are whose (``Calendar.of``)."""
        return await work_calendar(
            self.holidays, plan or self.plan, start, until, await self.holiday_countries()
        )

    async def holiday_countries(self) -> Mapping[str, str | None]:
        """Each person's country of public holidays, from the provider's kept list; none known while it fails."""
        try:
            return await self.provider.holiday_countries()
        except ProviderError as exc:
            log.warning(
                "could not read whose public holidays are whose from %s: %s", self.provider.display_name, exc
            )
            return {}

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Absences touching ``start``..``end``: from the mirror once a full sync pass covers them (no HR call),
        else from the provider, sharing a call already out.

        Requests the bot holds as pending (where it keeps approval) count as pending, as the HR system's would.
        """
        if await self._mirror_covers(start, end):
            mirrored = await self.store.mirrored(provider=self.provider.name, start=start, end=end)
            return mirrored + await self._held(start, end)
        return await self._listed(start, end)

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's absences touching ``start``..``end`` (the mirror's, where it covers them)."""
        if await self._mirror_covers(start, end):
            return [a for a in await self.absences(start, end) if a.person.id == person.id]
        return await self.provider.absences_of(person, start, end)

    async def approved(self, start: date, end: date) -> list[Absence]:
        """Approved absences touching ``start``..``end``: pending, declined and cancelled are not 'off'."""
        return [a for a in await self.absences(start, end) if a.status == Status.APPROVED]

    async def absent_on(self, day: date) -> list[Absence]:
        """Approved absences covering ``day``."""
        return [a for a in await self.approved(day, day) if a.covers(day)]

    async def as_of(self) -> datetime | None:
        """When the mirror was last in step, if that is over two sync intervals ago (the HR system is down)."""
        state = await self.store.sync_state(provider=self.provider.name)
        last = state.near_at if state else None
        if last is None:
            return None
        last = last if last.tzinfo else last.replace(tzinfo=UTC)  # SQLite hands back naive UTC
        return last if now() - last > 2 * self.sync_interval else None

    async def as_of_words(self) -> str:
        """' (as of 09:05)' in the company's zone when the mirror is behind; '' while it is in step."""
        last = await self.as_of()
        return f" (as of {last.astimezone(self.zone):%H:%M})" if last else ""

    async def _mirror_covers(self, start: date, end: date) -> bool:
        state = await self.store.sync_state(provider=self.provider.name)
        if state is None or state.full_at is None or state.window_start is None or state.window_end is None:
            return False
        return state.window_start <= start and end <= state.window_end

    async def _held(self, start: date, end: date) -> list[Absence]:
        if not self.bot_kept:
            return []
        held = await self.store.held_pending(provider=self.provider.name, start=start, end=end)
        return [row.as_absence() for row in held]

    async def _listed(self, start: date, end: date) -> list[Absence]:
        # A burst of requests for one busy day (everyone asking for Christmas Eve) would otherwise list
        # the same absences once per card, all at once, from a provider that may be slow and rate-limited.
        # A finished call is not reused: a card refreshed later sees the absences as they are then.
        calls = self._listings
        if (start, end) not in calls:
            call = calls[(start, end)] = asyncio.ensure_future(self.provider.absences(start, end))
            call.add_done_callback(lambda _: calls.pop((start, end), None))
        return await asyncio.shield(calls[(start, end)])
