"""The daily who's-off digest: posted once per channel per day, however many instances run.

Provider cost per digest: one ``public_holidays`` call (none for a provider without them: the
``holidays`` package answers) and one ``absences`` call for the rest of the week, whatever the
number of channels (``holiday_countries``, kept by the provider, gives each person their own holidays; and one
``leave_types`` call, for the types the HR system marks private, where this
process never listed them); Slack users come from one store query for every e-mail address.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.calendar import Calendar, DigestPlan, Route
from bot.services.deps import Deps
from bot.views.whos_off import Message, build_digest, day_words
from providers.models import Absence

log = logging.getLogger(__name__)

CLAIM_STALE_AFTER = timedelta(minutes=10)  # a claim older than this, never posted, died with its instance


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
    deps: Deps, plan: DigestPlan, day: date, calendar: Calendar, routes: Sequence[Route]
) -> dict[Route, list[Message]]:
    """Each route's digest messages (none: nothing to post), from one provider call for the week."""
    week = await deps.shown(await deps.approved(day, calendar.week_end(day)), plan)
    name = await deps.people.namer(week)
    heading = f"Who's off today, {day_words(day)}{await deps.as_of_words()}"
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
            heading=heading,
        )
    return messages


async def post_digest(
    deps: Deps,
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
    claimed = [c for c in plan.routes if await _claim(deps, c, day)]
    done = dict.fromkeys(plan.routes, False)
    if claimed:
        try:
            contents = await _contents(deps, plan, day, [plan.routes[c] for c in claimed])
        except BaseException:
            for channel in claimed:
                await deps.store.release_digest(channel=channel, day=day)
            raise
        done |= await _post_each(deps, day, {c: contents[plan.routes[c]] for c in claimed})
    return done


async def _claim(deps: Deps, channel: str, day: date) -> bool:
    return await deps.store.claim_digest(channel=channel, day=day, stale_after=CLAIM_STALE_AFTER)


async def _contents(
    deps: Deps, plan: DigestPlan, day: date, routes: Sequence[Route]
) -> dict[Route, list[Message]]:
    calendar = await deps.calendar(day, plan=plan)
    if calendar.is_workday(day):
        return await digest_messages(deps, plan, day, calendar, routes)
    log.info("no digest on %s: %s", day, _why_not(day, calendar))
    return {route: [] for route in routes}


async def _post_each(deps: Deps, day: date, posts: Mapping[str, list[Message]]) -> dict[str, bool]:
    """Post each claimed channel's messages; a failed one gives its claim back, the others still post."""
    failure: Exception | None = None
    for channel, messages in posts.items():
        try:
            ts = await _post_thread(deps, channel, messages)
        except Exception as exc:  # one channel's failure (not_in_channel…) must not hold back the others
            await deps.store.release_digest(channel=channel, day=day)  # so the next run retries it
            failure = failure or exc
            continue
        await deps.store.digest_posted(channel=channel, day=day, ts=ts)
        if ts is not None:
            log.info("posted the digest of %s to %s", day, channel)
    if failure is not None:
        raise failure
    return dict.fromkeys(posts, True)


def _why_not(day: date, calendar: Calendar) -> str:
    if day.weekday() not in calendar.days:
        return f"{day:%A} is not in DIGEST_DAYS"
    return ", ".join(h.name for h in calendar.closed.get(day, ()))


async def _post_thread(deps: Deps, channel: str, messages: Sequence[Message]) -> str | None:
    """Post the first message and the rest in its thread; on failure, withdraw what was posted.

    The claim covers the whole thread: withdrawing a half-posted one lets the retry post it
    whole, once, instead of a second first message.
    """
    if not messages:
        return None
    slack = deps.slack
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
