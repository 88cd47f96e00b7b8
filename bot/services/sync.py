"""The absence mirror kept in step with the HR system: passes on a schedule, one instance at a time, and
what a pass finds changed sent down the same path as a webhook event."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.services.deps import Deps
from bot.services.events import ProviderEvents
from bot.store.mirror import MirrorChanges
from bot.store.tables import now
from providers.errors import ProviderError, ProviderNotFound
from providers.models import Absence, BookingEvent, BookingState, Status

log = logging.getLogger(__name__)

NEAR_DAYS = 14  # the days a near pass covers: what people are about to be off for changes most
BACK_DAYS = 31  # a full pass: from a month back ...
AHEAD_DAYS = 365  # ... to a year ahead
FULL_EVERY = 6  # near passes per full pass
LEASE = timedelta(minutes=10)  # one pass at a time; a pass that dies with its instance frees it after this


@dataclass(frozen=True)
class SyncReport:
    """What one pass did."""

    full: bool
    start: date
    end: date
    listed: int
    changes: MirrorChanges

    def __str__(self) -> str:
        kind = "full" if self.full else "near"
        c = self.changes
        return (
            f"{kind} pass {self.start}..{self.end}: {self.listed} listed, {len(c.new)} new, "
            f"{len(c.changed)} changed, {len(c.deleted)} deleted"
        )


class Sync:
    """Passes over the HR system's absences that keep the mirror in step and announce what changed."""

    def __init__(self, deps: Deps, *, events: ProviderEvents, interval: timedelta) -> None:
        self.deps = deps
        self.events = events
        self.interval = interval
        self._holidays_at: datetime | None = None

    async def run_due(self, moment: datetime) -> SyncReport | None:
        """A pass if one is due (a full one at the start and every few intervals); None if none ran.

        Every instance, lease or not, reads the public holidays (and the leave types, for those the HR system
        marks private) again as often as a full pass runs, so `/leave who` and the digest never wait for it."""
        if _older(self._holidays_at, moment, self.interval * FULL_EVERY):
            self._holidays_at = moment
            await self.deps.holidays.refresh(moment.astimezone(self.deps.zone).date())
            await self.deps.refresh_leave_types()  # which of them the HR system marks private
        state = await self.deps.store.sync_state(provider=self.deps.provider.name)
        if _older(state and state.full_at, moment, self.interval * FULL_EVERY):
            return await self.run_pass(full=True, moment=moment)
        if _older(state and state.near_at, moment, self.interval):
            return await self.run_pass(full=False, moment=moment)
        return None

    async def run_pass(self, *, full: bool, moment: datetime | None = None) -> SyncReport | None:
        """One pass now, under the provider's sync lease; None when another instance holds it or the HR
        system failed (the mirror then stays as it was, and readers say how old it is)."""
        moment = moment or now()
        store, name = self.deps.store, self.deps.provider.name
        if not await store.claim_sync(provider=name, lease=LEASE):
            return None
        state = await store.sync_state(provider=name)
        first = state is None or state.full_at is None
        start, end = await self._window(full, moment.astimezone(self.deps.zone).date())
        try:
            listed = await self.deps.provider.absences(start, end)
        except ProviderError as exc:
            await store.end_sync(provider=name)
            log.warning("sync with %s failed: %s", self.deps.provider.display_name, exc)
            return None
        try:
            changes = await store.reconcile(
                provider=name, start=start, end=end, listed=listed, seen=moment, full=full
            )
            await self._announce(changes, moment, first)
            await self._look_up_unlisted(listed, start, end, moment)
        except BaseException:
            await store.end_sync(provider=name)
            raise
        done: dict[str, object] = {"near_at": moment}
        if full:
            done |= {"full_at": moment, "window_start": start, "window_end": end}
        await store.end_sync(provider=name, **done)
        report = SyncReport(full=full, start=start, end=end, listed=len(listed), changes=changes)
        log.info("synced %s: %s", self.deps.provider.display_name, report)
        return report

    async def _window(self, full: bool, today: date) -> tuple[date, date]:
        """A full pass: a month back to a year ahead. A near pass: the next two weeks, and as far as the last
        request still waiting for a decision (an approver's card must not wait for a full pass)."""
        if full:
            return today - timedelta(days=BACK_DAYS), today + timedelta(days=AHEAD_DAYS)
        waiting = await self.deps.store.last_pending_day(provider=self.deps.provider.name)
        end = min(
            max(today + timedelta(days=NEAR_DAYS), waiting or today), today + timedelta(days=AHEAD_DAYS)
        )
        return today - timedelta(days=1), end

    async def _announce(self, changes: MirrorChanges, moment: datetime, first: bool) -> None:
        """Each change through the provider-events path; a first pass only catches up requests the bot holds
        (bookings that were there before the bot are not news)."""
        observed = [*changes.new, *(after for _, after in changes.changed)]
        observed += [a.model_copy(update={"status": Status.CANCELLED}) for a in changes.deleted]
        for absence in observed:
            if first and not await self.deps.store.request_by_booking(
                provider=self.deps.provider.name, booking_id=absence.id
            ):
                continue
            await self.events.apply_event(_observation(absence, moment), observed=True)

    async def _look_up_unlisted(
        self, listed: list[Absence], start: date, end: date, moment: datetime
    ) -> None:
        """Requests still waiting whose booking the pass did not list (HR systems list pending and approved
        leave): asked for one by one, so a decline or deletion in the HR system reaches the cards."""
        seen = {a.id for a in listed}
        waiting = await self.deps.store.waiting_bookings(
            provider=self.deps.provider.name, start=start, end=end
        )
        for request in waiting:
            assert request.booking_id is not None
            if request.booking_id in seen:
                continue
            try:
                state = await self.deps.provider.booking(request.booking_id)
            except ProviderNotFound:  # deleted in the HR system
                state = BookingState(
                    absence=request.as_absence().model_copy(update={"status": Status.CANCELLED})
                )
            if state is not None:
                event = _observation(state.absence, moment).model_copy(update={"actor": state.decided_by})
                await self.events.apply_event(event, observed=True)


def _observation(absence: Absence, moment: datetime) -> BookingEvent:
    """A change a pass saw, named by what it is, so the same change is applied once whoever sees it."""
    state = f"{absence.status}:{absence.start_date}:{absence.start}:{absence.end_date}:{absence.end}"
    return BookingEvent(event_id=f"sync:{absence.id}:{state}", booking=absence, updated_at=moment)


def _older(moment: datetime | None, than: datetime, interval: timedelta) -> bool:
    """True when ``moment`` is unknown or at least ``interval`` before ``than``."""
    if moment is None:
        return True
    return than - (moment if moment.tzinfo else moment.replace(tzinfo=than.tzinfo)) >= interval
