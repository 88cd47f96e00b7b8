"""While you're away: the Slack status and Do Not Disturb of people who connected, set at the start of their
approved leave in their own time zone and restored at its end, each start and end claimed once in the store.

Read from the absence mirror and the bot's own requests only, never the HR system. A decision or a
cancellation made here, or a change the HR system told of, brings the person's periods in step at once
(``AwaySteps``, an outbox step after the request changed, and ``refresh``); anything else, such as a
booking the sync pass brought into the mirror, at the next tick (5 s).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import JobResult
from bot.errors import SLACK_TOKEN_REFUSED, passing
from bot.services.calendar import Calendar
from bot.services.connect import AwayConfig, Connections
from bot.services.deps import Deps
from bot.store.away_tables import AwayPeriod
from bot.store.tables import LeaveRequest, MirroredAbsence, OutboxJob, SlackUser, now
from bot.views.away import status_text
from providers.models import Absence, Part, Status

log = logging.getLogger(__name__)

RETRY_LATER = timedelta(minutes=1)  # Slack down or answering an error: the step is tried again then
AHEAD = timedelta(days=2)  # how far ahead periods are planned (they start from the tick that finds them due)
# How far back and ahead leave is read, to join leave right after leave (a longer run is joined as it comes
# closer, or loses its first part as it goes by: its period is handed over, not given back).
JOIN_AHEAD = timedelta(days=31)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _newer(row: LeaveRequest, mirrored: MirroredAbsence) -> bool:
    return _aware(row.updated_at) >= _aware(mirrored.last_seen)


@dataclass(frozen=True)
class Leave:
    """One booking of a connected person, as the newest of the mirror and the bot's request says."""

    slack_user_id: str
    absence: Absence


class AwayStatus:
    """The status job: plans each connected person's periods from their leave, then starts and ends them."""

    def __init__(self, deps: Deps, connections: Connections, config: AwayConfig, *, lease: timedelta) -> None:
        self.deps = deps
        self.connections = connections
        self.config = config
        self.lease = lease
        # Working days, public holidays out (read at each run from the kept copy: no HR call): "back on" dates
        # skip them, and DND is snoozed on working days only.
        self.calendar = Calendar(days=deps.plan.days)

    async def run(self, moment: datetime, *, slack_user_ids: Collection[str] | None = None) -> None:
        """One tick (for these people only, when given): bring the periods in step with the leave, then do
        what is due at ``moment``."""
        if not await self.deps.store.count_user_tokens():
            return
        self.calendar = await self.deps.calendar(moment.astimezone(UTC).date() - timedelta(days=1))
        await self.plan(moment, slack_user_ids=slack_user_ids)
        store = self.deps.store
        for period in await store.due_periods(moment=moment, slack_user_ids=slack_user_ids):
            await self._due(period, moment)

    async def refresh(self, slack_user_id: str | None) -> None:
        """Someone's leave changed here: their status follows now, not at the next tick (each start and end is
        still claimed once, so an instance ticking meanwhile does not repeat it)."""
        if slack_user_id:
            await self.run(now(), slack_user_ids=[slack_user_id])

    async def disconnect(self, slack_user_id: str) -> None:
        """Disconnect from the Home: a status and snooze set for leave under way are given back first (the
        token still works), then the token is forgotten."""
        store, moment = self.deps.store, now()
        under_way = [p.key for p in await store.periods(slack_user_ids=[slack_user_id]) if p.phase == "away"]
        await store.end_early(keys=under_way, at=moment)
        for period in await store.periods(slack_user_ids=[slack_user_id]):
            if period.key in under_way:
                await self._act(period, moment, self._end)
        await self.connections.disconnect([slack_user_id])

    # -- planning ----------------------------------------------------------------------------------

    async def plan(self, moment: datetime, *, slack_user_ids: Collection[str] | None = None) -> None:
        """Store a period for each approved leave starting soon or under way; a period whose leave was
        cancelled or moved is forgotten before it began, or ends now if it had."""
        store = self.deps.store
        users = [
            t.slack_user_id
            for t in await store.user_tokens()
            if slack_user_ids is None or t.slack_user_id in slack_user_ids
        ]
        wanted: dict[str, AwayPeriod] = {}
        for leave in await self._leave(users, moment):
            period = await self._period(leave)
            if period.end_at > moment and period.start_at <= moment + AHEAD:
                wanted[period.key] = period
        held = {p.key: p for p in await store.periods(slack_user_ids=users)}
        for key, period in list(held.items()):
            if key not in wanted and period.phase == "away":
                successor = _successor(period, [w for k, w in wanted.items() if k not in held], moment)
                if successor and await store.hand_over(old_key=key, period=successor):
                    del held[key]
                    held[successor.key] = successor
        await store.drop_planned(
            keys=[k for k, p in held.items() if k not in wanted and p.phase == "planned"]
        )
        await store.end_early(
            keys=[k for k, p in held.items() if k not in wanted and p.phase == "away"], at=moment
        )
        for key, period in wanted.items():
            if key not in held:
                await store.plan_period(period=period)

    async def _leave(self, users: list[str], moment: datetime) -> list[Leave]:
        store, provider = self.deps.store, self.deps.provider.name
        people = {u.slack_user_id: u for u in await store.slack_users(slack_user_ids=users)}
        known = [people.get(u) or SlackUser(slack_user_id=u, name=u) for u in users]
        day = moment.astimezone(UTC).date()
        mirrored, requests = await store.leave_between(
            provider=provider,
            start=day - JOIN_AHEAD,
            end=day + JOIN_AHEAD,
            people=known,
        )
        newest: dict[str, tuple[str, Absence]] = {}
        for row in mirrored:
            if user := _whose(row, known):
                newest[row.booking_id] = (user, row.absence)
        mirror_rows = {row.booking_id: row for row in mirrored}
        for request in requests:
            booking = request.booking_id or f"request:{request.id}"
            seen = mirror_rows.get(booking)
            if request.requester_slack_id and (seen is None or _newer(request, seen)):
                newest[booking] = (request.requester_slack_id, request.as_absence())
        approved = [
            Leave(user, absence.model_copy(update={"id": booking}))
            for booking, (user, absence) in newest.items()
            if absence.status == Status.APPROVED
        ]
        return self._joined(approved)

    def _joined(self, leave: list[Leave]) -> list[Leave]:
        """Back-to-back leave of one person as one absence (one ends Friday, the next starts Monday): one
        status saying when they are back after the last, not given back in between."""
        joined: list[Leave] = []

        def begins(x: Leave) -> tuple[str, date, time]:
            return x.slack_user_id, x.absence.start_date, self._time(x.absence.start, start=True)

        for item in sorted(leave, key=begins):
            last = joined[-1] if joined else None
            if (
                last
                and last.slack_user_id == item.slack_user_id
                and self._runs_on(last.absence, item.absence)
            ):
                joined[-1] = Leave(item.slack_user_id, self._through(last.absence, item.absence))
            else:
                joined.append(item)
        return joined

    def _runs_on(self, first: Absence, then: Absence) -> bool:
        """True when ``then`` starts before ``first`` ends, or on the next working day with no time between."""
        if then.start_date == first.end_date:
            return self._time(then.start, start=True) <= self._time(first.end, start=False)
        if then.start_date < first.end_date:
            return True
        whole = first.end == "PM" and then.start == "AM"
        return whole and then.start_date <= self.calendar.next_workday(first.end_date)

    def _through(self, first: Absence, then: Absence) -> Absence:
        """One absence from ``first``'s start to the later end of the two; private if either is."""
        ends = [(a.end_date, self._time(a.end, start=False), a) for a in (first, then)]
        last = max(ends, key=lambda end: end[:2])[2]
        private = next((a.leave_type for a in (first, then) if self.deps.plan.is_private(a.leave_type)), None)
        return first.model_copy(
            update={
                "id": f"{first.id}+{then.id}",
                "end_date": last.end_date,
                "end": last.end,
                "leave_type": private or first.leave_type,
            }
        )

    async def _period(self, leave: Leave) -> AwayPeriod:
        absence = leave.absence
        zone = await self.deps.people.zone_of(leave.slack_user_id) or self.deps.zone
        start = datetime.combine(absence.start_date, self._time(absence.start, start=True), zone)
        end = datetime.combine(absence.end_date, self._time(absence.end, start=False), zone)
        whole = absence.end == "PM"
        back = self.calendar.next_workday(absence.end_date) if whole else absence.end_date
        words = status_text(
            back=back,
            back_at=None if whole else end,
            private=self.deps.plan.is_private(absence.leave_type, self.deps.marked_private()),
            same_day=absence.start_date == absence.end_date,
        )
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        return AwayPeriod(
            key=f"{leave.slack_user_id}:{absence.id}:{start:%Y%m%dT%H%M}:{end:%Y%m%dT%H%M}",
            slack_user_id=leave.slack_user_id,
            booking_id=absence.id,
            start_at=start,
            end_at=end,
            zone=getattr(zone, "key", "UTC"),
            status_text=words,
        )

    def _time(self, part: Part, *, start: bool) -> time:
        config = self.config
        if isinstance(part, int):
            return time(part // 60, part % 60)
        if start:
            return config.workday_start if part == "AM" else config.workday_split
        return config.workday_split if part == "AM" else config.workday_end

    # -- what is due -------------------------------------------------------------------------------

    async def _due(self, period: AwayPeriod, moment: datetime) -> None:
        start, end = _aware(period.start_at), _aware(period.end_at)
        if period.phase == "planned" and moment >= end:  # missed whole (leavebot was down): nothing to undo
            if await self._claim(period):
                await self.deps.store.settle_period(key=period.key, phase="over")
        elif period.phase == "planned" and moment >= start:
            await self._act(period, moment, self._start)
        elif period.phase == "away" and moment >= end:
            await self._act(period, moment, self._end)
        elif period.phase == "away" and self._snooze_window(period, moment):
            await self._act(period, moment, self._snooze_today)

    async def _claim(self, period: AwayPeriod) -> bool:
        return await self.deps.store.claim_period(key=period.key, phase=period.phase, lease=self.lease)

    async def _act(
        self,
        period: AwayPeriod,
        moment: datetime,
        step: Callable[[AsyncWebClient, AwayPeriod, datetime], Awaitable[None]],
    ) -> None:
        """Claim the period, then do ``step`` with its person's token; Slack refusing the token forgets
        them (one log line), a 429 waits for its Retry-After, any other failure a minute."""
        if not await self._claim(period):
            return  # another instance has it
        user = period.slack_user_id
        token = await self.connections.token_for(user)
        if token is None:
            await self.deps.store.settle_period(key=period.key, lease_until=moment + RETRY_LATER * 5)
            return
        try:
            await step(self._client(token), period, moment)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in SLACK_TOKEN_REFUSED:
                log.warning(
                    "Slack refused the user token of %s (%s): their status and Do Not Disturb are no longer "
                    "set; they can connect again from leavebot's Home",
                    user,
                    error,
                )
                await self.connections.disconnect([user])
                return
            wait = RETRY_LATER
            if error == "ratelimited":
                wait = timedelta(seconds=int(exc.response.headers.get("Retry-After", 30) or 30))
            log.warning("could not update the Slack status of %s (%s); trying again in %s", user, error, wait)
            await self.deps.store.settle_period(key=period.key, lease_until=moment + wait)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning(
                "could not reach Slack for the status of %s (%s); trying again in a minute", user, exc
            )
            await self.deps.store.settle_period(key=period.key, lease_until=moment + RETRY_LATER)

    def _client(self, token: str) -> AsyncWebClient:
        slack = self.deps.slack
        client = AsyncWebClient(token=token, base_url=slack.base_url if slack else "https://slack.com/api/")
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        return client

    async def _start(self, client: AsyncWebClient, period: AwayPeriod, moment: datetime) -> None:
        store = self.deps.store
        profile = (await client.users_profile_get())["profile"]
        text, emoji = profile.get("status_text", ""), profile.get("status_emoji", "")
        carried = bool(period.set_emoji)  # it carries on a period under way (``hand_over``)
        if carried and emoji != period.set_emoji:  # they set a status of their own meanwhile: left alone
            await store.settle_period(key=period.key, phase="away")
            return
        if not carried and text != period.status_text:  # else a lost try set it: keep what was before
            await store.settle_period(
                key=period.key,
                lease_until=moment + self.lease,
                prev_text=text,
                prev_emoji=emoji,
                prev_expiration=int(profile.get("status_expiration") or 0),
            )
        status = {
            "status_text": period.status_text,
            "status_emoji": self.config.emoji,
            "status_expiration": int(_aware(period.end_at).timestamp()),
        }
        await client.users_profile_set(profile=status)
        snoozed = await self._snooze(client, period, moment) if self._snooze_window(period, moment) else None
        await store.settle_period(
            key=period.key, phase="away", set_emoji=self.config.emoji, snoozed_on=snoozed or period.snoozed_on
        )
        log.info("set the away status of %s: %s", period.slack_user_id, period.status_text)

    async def _snooze_today(self, client: AsyncWebClient, period: AwayPeriod, moment: datetime) -> None:
        snoozed = await self._snooze(client, period, moment)
        await self.deps.store.settle_period(key=period.key, snoozed_on=snoozed or period.snoozed_on)

    async def _end(self, client: AsyncWebClient, period: AwayPeriod, moment: datetime) -> None:
        profile = (await client.users_profile_get())["profile"]
        text, emoji = profile.get("status_text", ""), profile.get("status_emoji", "")
        ours = text == period.status_text and emoji == period.set_emoji
        # At the natural end Slack has already cleared the status (its expiration): that is no change of theirs.
        expired = not text and not emoji and not period.ended_early
        if ours or expired:
            await client.users_profile_set(profile=self._previous(period, moment))
        if period.ended_early and period.snoozed_on:
            try:
                await client.dnd_endSnooze()
            except SlackApiError as exc:
                if exc.response.get("error") != "snooze_not_active":  # they ended it themselves
                    raise
        await self.deps.store.settle_period(key=period.key, phase="over")
        log.info("restored the status of %s after their leave", period.slack_user_id)

    @staticmethod
    def _previous(period: AwayPeriod, moment: datetime) -> dict[str, object]:
        expiration = period.prev_expiration
        if expiration and expiration <= moment.timestamp():  # it would have gone by itself meanwhile
            return {"status_text": "", "status_emoji": "", "status_expiration": 0}
        return {
            "status_text": period.prev_text,
            "status_emoji": period.prev_emoji,
            "status_expiration": expiration,
        }

    def _snooze_window(self, period: AwayPeriod, moment: datetime) -> bool:
        day_start, day_end = self._day(period, moment)
        local_day = moment.astimezone(ZoneInfo(period.zone)).date()
        return period.snoozed_on != local_day.isoformat() and day_start <= moment < day_end

    def _day(self, period: AwayPeriod, moment: datetime) -> tuple[datetime, datetime]:
        """Today's stretch of the leave in working hours, in the person's zone (empty on a day off)."""
        zone: tzinfo = ZoneInfo(period.zone)
        day: date = moment.astimezone(zone).date()
        if not self.calendar.is_workday(day):
            return moment, moment
        start = max(datetime.combine(day, self.config.workday_start, zone), _aware(period.start_at))
        end = min(datetime.combine(day, self.config.workday_end, zone), _aware(period.end_at))
        return start, end

    async def _snooze(self, client: AsyncWebClient, period: AwayPeriod, moment: datetime) -> str | None:
        """Snooze notifications until the end of today's working hours (or of the leave); the day, if snoozed."""
        day_start, day_end = self._day(period, moment)
        if not day_start <= moment < day_end:
            return None
        await client.dnd_setSnooze(num_minutes=max(1, math.ceil((day_end - moment).total_seconds() / 60)))
        return moment.astimezone(ZoneInfo(period.zone)).date().isoformat()


class AwaySteps:
    """The outbox's handler for the step after a decision or a cancellation: the requester's status now."""

    def __init__(self, deps: Deps, away: AwayStatus | None) -> None:
        self.deps = deps
        self.away = away

    def retryable(self, error: Exception) -> bool:
        """The store or Slack down for a moment (Slack's own errors are handled by the job itself)."""
        return passing(error)

    async def perform(self, job: OutboxJob, *, first_try: bool) -> None:
        """Bring the requester's periods in step with their request (nothing while statuses are off)."""
        if self.away:
            await self.away.refresh((await self.deps.request(job.request_id)).requester_slack_id)

    async def done(self, job: OutboxJob, *, inline: bool) -> list[OutboxJob]:
        """Nothing follows."""
        return []

    async def revert(self, job: OutboxJob, result: JobResult) -> None:
        """Nothing to put back: the next tick tries again."""

    async def failed(self, job: OutboxJob, error: Exception) -> list[OutboxJob]:
        """Nobody waits for it."""
        return []


def _successor(period: AwayPeriod, fresh: Iterable[AwayPeriod], moment: datetime) -> AwayPeriod | None:
    """The new period that carries on one under way: the same person's, under way too (the leave grew,
    shrank or was joined to more)."""
    for candidate in fresh:
        if candidate.slack_user_id == period.slack_user_id and _aware(candidate.start_at) <= moment:
            return candidate
    return None


def _whose(row: MirroredAbsence, people: Iterable[SlackUser]) -> str | None:
    for person in people:
        if row.person_slack_id == person.slack_user_id:
            return person.slack_user_id
        if person.email and row.person_email and row.person_email.casefold() == person.email.casefold():
            return person.slack_user_id
        if person.person_id and row.person_id == person.person_id:
            return person.slack_user_id
    return None
