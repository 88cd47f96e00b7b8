"""Who is off: the daily digest (posted once per channel per day, however many instances) and `/leave who`.

Provider cost per digest: one ``public_holidays`` call (none for a provider without them: the
``holidays`` package answers) and one ``absences`` call for the rest of the week, whatever the
number of channels; Slack users come from one store query for every e-mail address.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.config import WEEKDAYS, Settings
from bot.errors import UserError
from bot.parsing import ParseError, parse_request
from bot.views.requests import context, escape
from bot.views.whos_off import (
    Message,
    Name,
    build_days,
    build_digest,
    build_person_leave,
    day_words,
)
from providers.models import Absence, Person, PublicHoliday, Status

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.services.requests import LeaveService

log = logging.getLogger(__name__)

CLAIM_STALE_AFTER = timedelta(minutes=10)  # a claim older than this, never posted, died with its instance
HOLIDAYS_AHEAD = timedelta(days=62)  # public holidays read ahead, for "back on" dates
PERSON_AHEAD = timedelta(days=90)  # how far `/leave who @someone` looks
MAX_WHO_DAYS = 31
MAX_WHO_MESSAGES = 5  # a response_url takes five messages
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
WHO_EXAMPLES = "`/leave who`, `/leave who tomorrow`, `/leave who friday`, `/leave who next week` or `/leave who @someone`"

Route = frozenset[str] | None  # the departments a channel shows; None: everyone
OUT_OF_OFFICE = "Out of office"  # what the team sees of a private leave type


@dataclass(frozen=True)
class DigestPlan:
    """The company calendar and what the team may see of each other, as the settings say.

    The digest, `/leave who` and the approval card all read it: where the digest goes, which
    days are working days, whose public holidays close the company, the most people of a team
    off at once, and which leave types are private.
    """

    routes: Mapping[str, Route]
    days: frozenset[int] = WEEKDAYS
    country: str | None = None
    skip_empty: bool = False
    max_off: int | None = None
    private_types: frozenset[str] = frozenset({"sick"})

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestPlan:
        """DIGEST_CHANNEL, DIGEST_DAYS, DIGEST_COUNTRY, DIGEST_SKIP_EMPTY, MAX_OFF_PER_TEAM, PRIVATE_LEAVE_TYPES."""
        return cls(
            routes=settings.digest_routes,
            days=settings.digest_days,
            country=settings.digest_country,
            skip_empty=settings.digest_skip_empty,
            max_off=settings.max_off_per_team,
            private_types=settings.private_leave_types,
        )

    def is_private(self, leave_type: str | None) -> bool:
        """True for a leave type whose name contains one of PRIVATE_LEAVE_TYPES' words."""
        name = (leave_type or "").lower()
        return any(word in name for word in self.private_types)

    def shown(self, absences: Sequence[Absence]) -> list[Absence]:
        """Absences as the team may see them: a private leave type becomes "Out of office"."""
        return [
            a.model_copy(update={"leave_type": OUT_OF_OFFICE}) if self.is_private(a.leave_type) else a
            for a in absences
        ]


@dataclass(frozen=True)
class Calendar:
    """Working days: the digest days less the public holidays that close the company."""

    days: frozenset[int]
    closed: Mapping[date, Sequence[PublicHoliday]] = field(default_factory=dict)
    elsewhere: Mapping[date, Sequence[PublicHoliday]] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        """True on a digest day that is no public holiday here."""
        return day.weekday() in self.days and day not in self.closed

    def next_workday(self, day: date) -> date:
        """The first working day after ``day``."""
        for offset in range(1, 380):
            if self.is_workday(candidate := day + timedelta(days=offset)):
                return candidate
        return day + timedelta(days=1)  # no working days at all: say the next day

    def week_end(self, day: date) -> date:
        """The last day of ``day``'s working week: the run of digest days after it (holidays included)."""
        end = day
        while (end - day).days < 6 and (end + timedelta(days=1)).weekday() in self.days:
            end += timedelta(days=1)
        return end

    def workdays(self, start: date, end: date) -> list[date]:
        """Working days from ``start`` to ``end``, inclusive."""
        days = (start + timedelta(days=i) for i in range((end - start).days + 1))
        return [day for day in days if self.is_workday(day)]

    def holidays_on(self, day: date) -> list[PublicHoliday]:
        """Every public holiday on ``day``, here or elsewhere."""
        return [*self.closed.get(day, ()), *self.elsewhere.get(day, ())]


async def work_calendar(
    service: LeaveService, plan: DigestPlan, start: date, until: date | None = None
) -> Calendar:
    """The calendar from ``start`` on (to ``until`` at least): the provider's public holidays, else the country's."""
    end = max(start + HOLIDAYS_AHEAD, until or start)
    holidays = await service.provider.public_holidays(start, end)
    if holidays is None:
        holidays = _country_holidays(plan.country, start, end) if plan.country else []
    closed: dict[date, list[PublicHoliday]] = {}
    elsewhere: dict[date, list[PublicHoliday]] = {}
    for holiday in holidays:
        here = plan.country is None or holiday.country is None or _same_country(holiday.country, plan.country)
        (closed if here else elsewhere).setdefault(holiday.day, []).append(holiday)
    return Calendar(days=plan.days, closed=closed, elsewhere=elsewhere)


def _country_holidays(country: str, start: date, end: date) -> list[PublicHoliday]:
    import holidays  # a large package: imported only where a country is set

    code, _, region = country.partition("-")
    known = holidays.country_holidays(code, subdiv=region or None, years=range(start.year, end.year + 1))
    return [
        PublicHoliday(day=day, name=name, country=country)
        for day, name in sorted(known.items())
        if start <= day <= end
    ]


def _same_country(a: str, b: str) -> bool:
    return a.upper().partition("-")[0] == b.upper().partition("-")[0]


async def approved(service: LeaveService, start: date, end: date) -> list[Absence]:
    """Approved absences touching ``start``..``end``, in one provider call: pending, declined and cancelled are not 'off'."""
    return [a for a in await service.provider.absences(start, end) if a.status == Status.APPROVED]


async def absent_on(service: LeaveService, day: date) -> list[Absence]:
    """Approved absences covering ``day``."""
    return [a for a in await approved(service, day, day) if a.covers(day)]


async def namer(service: LeaveService, absences: Sequence[Absence]) -> Name:
    """Names people by their Slack mention when the store knows them (one query for all), else by name."""
    emails = {a.person.email for a in absences if a.person.email and not a.person.slack_user_id}
    known = await service.store.slack_users_by_emails(emails=emails)

    def name(person: Person) -> str:
        user = known.get((person.email or "").lower())
        slack_id = person.slack_user_id or (user.slack_user_id if user else None)
        return f"<@{slack_id}>" if slack_id else escape(person.name)

    return name


# -- the digest ---------------------------------------------------------------------------------


def later_this_week(
    absences: Sequence[Absence], day: date, calendar: Calendar
) -> list[tuple[date, list[Absence]]]:
    """Absences starting after ``day`` this working week, by the first working day they take."""
    days = calendar.workdays(day + timedelta(days=1), calendar.week_end(day))
    found: dict[date, list[Absence]] = {d: [] for d in days}
    for absence in absences:
        first = next((d for d in days if absence.covers(d)), None)
        if first is not None and absence.start_date > day:
            found[first].append(absence)
    return [(d, found[d]) for d in days if found[d]]


def shows(route: Route, absence: Absence) -> bool:
    """True when a channel with this route lists this absence."""
    return route is None or absence.person.department in route


async def digest_messages(
    service: LeaveService, plan: DigestPlan, day: date, calendar: Calendar, routes: Sequence[Route]
) -> dict[Route, list[Message]]:
    """Each route's digest messages (none: nothing to post), from one provider call for the week."""
    week = plan.shown(await approved(service, day, calendar.week_end(day)))
    name = await namer(service, week)
    messages: dict[Route, list[Message]] = {}
    for route in dict.fromkeys(routes):
        mine = [a for a in week if shows(route, a)]
        today = [a for a in mine if a.covers(day)]
        if not today and plan.skip_empty:
            messages[route] = []
            continue
        messages[route] = build_digest(
            today,
            later_this_week(mine, day, calendar),
            day,
            name=name,
            next_workday=calendar.next_workday,
            holidays=calendar.elsewhere.get(day, ()),
        )
    return messages


async def post_digest(
    service: LeaveService,
    *,
    day: date,
    channels: Sequence[str] | None = None,
    plan: DigestPlan | None = None,
) -> dict[str, bool]:
    """Post ``day``'s digest to each channel that has none yet; {channel: done by this call}.

    ``plan`` (from the settings) routes departments and decides which days have a digest;
    ``channels`` alone posts everyone's digest to each. A claim row per channel and day makes
    the post happen once across instances; a failed post gives its claim back for the next run.
    Done also means: no digest today (a public holiday), or nothing to post (DIGEST_SKIP_EMPTY).
    """
    plan = plan or DigestPlan(routes=dict.fromkeys(channels or []))
    claimed = [c for c in plan.routes if await _claim(service, c, day)]
    done = dict.fromkeys(plan.routes, False)
    if claimed:
        try:
            contents = await _contents(service, plan, day, [plan.routes[c] for c in claimed])
        except BaseException:
            for channel in claimed:
                await service.store.release_digest(channel=channel, day=day)
            raise
        done |= await _post_each(service, day, {c: contents[plan.routes[c]] for c in claimed})
    return done


async def _claim(service: LeaveService, channel: str, day: date) -> bool:
    return await service.store.claim_digest(channel=channel, day=day, stale_after=CLAIM_STALE_AFTER)


async def _contents(
    service: LeaveService, plan: DigestPlan, day: date, routes: Sequence[Route]
) -> dict[Route, list[Message]]:
    calendar = await work_calendar(service, plan, day)
    if calendar.is_workday(day):
        return await digest_messages(service, plan, day, calendar, routes)
    log.info("no digest on %s: %s", day, _why_not(day, calendar))
    return {route: [] for route in routes}


async def _post_each(service: LeaveService, day: date, posts: Mapping[str, list[Message]]) -> dict[str, bool]:
    """Post each claimed channel's messages; a failed one gives its claim back, the others still post."""
    failure: Exception | None = None
    for channel, messages in posts.items():
        try:
            ts = await _post_thread(service, channel, messages)
        except Exception as exc:  # one channel's failure (not_in_channel…) must not hold back the others
            await service.store.release_digest(channel=channel, day=day)  # so the next run retries it
            failure = failure or exc
            continue
        await service.store.digest_posted(channel=channel, day=day, ts=ts)
        if ts is not None:
            log.info("posted the digest of %s to %s", day, channel)
    if failure is not None:
        raise failure
    return dict.fromkeys(posts, True)


def _why_not(day: date, calendar: Calendar) -> str:
    if day.weekday() not in calendar.days:
        return f"{day:%A} is not in DIGEST_DAYS"
    return ", ".join(h.name for h in calendar.closed.get(day, ()))


async def _post_thread(service: LeaveService, channel: str, messages: Sequence[Message]) -> str | None:
    """Post the first message and the rest in its thread; on failure, withdraw what was posted.

    The claim covers the whole thread: withdrawing a half-posted one lets the retry post it
    whole, once, instead of a second first message.
    """
    if not messages:
        return None
    slack = service.slack
    assert slack is not None
    first, *rest = messages
    answer = await slack.chat_postMessage(channel=channel, text=first.text, blocks=first.blocks)
    where, ts = answer["channel"], answer["ts"]
    posted = [ts]
    try:
        for message in rest:
            reply = await slack.chat_postMessage(
                channel=where, thread_ts=ts, text=message.text, blocks=message.blocks
            )
            posted.append(reply["ts"])
    except Exception:
        await _withdraw(slack, where, posted)
        raise
    return str(ts)


async def _withdraw(slack: AsyncWebClient, channel: str, posted: Sequence[str]) -> None:
    for ts in reversed(posted):  # replies first: a deleted parent would leave its replies behind
        try:
            await slack.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            log.warning("could not withdraw a half-posted digest message: %s", exc.response.get("error"))


# -- /leave who ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhoQuery:
    """What `/leave who …` asks: some days, or one person's upcoming leave."""

    start: date
    end: date
    slack_user_id: str | None = None


def read_who(words: str, *, today: date) -> WhoQuery:
    """Understand the words after `/leave who`: a day, a span (the parser's), or a mention."""
    text = words.strip()
    if not text or text.lower() == "today":
        return WhoQuery(today, today)
    if mention := MENTION.match(text):
        return WhoQuery(today, today + PERSON_AHEAD, slack_user_id=mention.group(1))
    if text.startswith("@"):
        raise UserError(f"Pick {escape(text)} from Slack's @ list, so I know exactly who you mean.")
    try:
        draft = parse_request(text, today=today)
        start, end = draft.start_date, draft.end_date
    except ParseError:
        week = _week_words(text.lower(), today)
        if week is None:
            raise UserError(f"I couldn't understand “{escape(text)}”. Try {WHO_EXAMPLES}.") from None
        start, end = week
    if (end - start).days >= MAX_WHO_DAYS:
        raise UserError(f"That is more than {MAX_WHO_DAYS} days; ask for a shorter span.")
    return WhoQuery(start, end)


def _week_words(text: str, today: date) -> tuple[date, date] | None:
    # What the parser answers for these, should it not understand them (the foundation's did not).
    friday = today - timedelta(days=today.weekday()) + timedelta(days=4)
    if text in ("week", "this week"):
        return (today, friday) if today <= friday else None
    if text == "next week":
        return friday + timedelta(days=3), friday + timedelta(days=7)
    return None


def who_heading(start: date, end: date, today: date) -> str:
    """'Who's off today, Tue 24 Nov', 'Who's off on Fri 27 Nov', 'Who's off Mon 30 Nov – Sun 6 Dec'."""
    if start != end:
        return f"Who's off {day_words(start)} – {day_words(end)}"
    when = {today: "today, ", today + timedelta(days=1): "tomorrow, "}.get(start, "on ")
    return f"Who's off {when}{day_words(start)}"


async def who(service: LeaveService, plan: DigestPlan, words: str, *, today: date) -> list[Message]:
    """The answer to `/leave who …`: who is off on a day or each working day of a span, or one person's leave."""
    query = read_who(words, today=today)
    if query.slack_user_id is not None:
        return [await person_leave(service, plan, query.slack_user_id, today=today, until=query.end)]
    calendar = await work_calendar(service, plan, query.start)
    absences = plan.shown(await approved(service, query.start, query.end))
    name = await namer(service, absences)
    heading = who_heading(query.start, query.end, today)
    if query.start == query.end:
        messages = build_digest(
            [a for a in absences if a.covers(query.start)],
            [],
            query.start,
            name=name,
            next_workday=calendar.next_workday,
            holidays=calendar.holidays_on(query.start),
            heading=heading,
            threaded=False,
        )
    else:
        days = calendar.workdays(query.start, query.end) or _every_day(query.start, query.end)
        messages = build_days(
            [(day, [a for a in absences if a.covers(day)]) for day in days],
            heading=heading,
            name=name,
            next_workday=calendar.next_workday,
        )
    if len(messages) > MAX_WHO_MESSAGES:
        last = messages[MAX_WHO_MESSAGES - 1]
        cut = context("…and more than fits here: ask about fewer days, or see the digest channel.")
        messages = [*messages[: MAX_WHO_MESSAGES - 1], Message(last.text, [*last.blocks, cut])]
    return messages


def _every_day(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def person_leave(
    service: LeaveService, plan: DigestPlan, slack_user_id: str, *, today: date, until: date
) -> Message:
    """Someone's approved leave from today until ``until`` (private leave types hidden)."""
    try:
        person = await service.people.person_for(slack_user_id)
    except UserError:
        raise UserError(
            f"I couldn't find <@{slack_user_id}> in {service.provider.display_name}, so I can't tell their leave."
        ) from None
    found = await service.provider.absences_of(person, today, until)
    upcoming = sorted(
        (a for a in plan.shown(found) if a.status == Status.APPROVED and a.end_date >= today),
        key=lambda a: (a.start_date, a.id),
    )
    return build_person_leave(f"<@{slack_user_id}>", upcoming, until=until)
