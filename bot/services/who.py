"""`/leave who`: who is off on a day or each working day of a span, or one person's upcoming leave."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.errors import UserError
from bot.parsing import ParseError, parse_request
from bot.services.calendar import DigestPlan
from bot.services.deps import Deps
from bot.views.blocks import escape
from bot.views.whos_off import (
    Message,
    build_days,
    build_digest,
    build_person_leave,
    day_words,
    more_than_fits,
)
from providers.models import Status

PERSON_AHEAD = timedelta(days=90)  # how far `/leave who @someone` looks
MAX_WHO_DAYS = 31
MAX_WHO_MESSAGES = 5  # a response_url takes five messages
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
# What people put between "who" and the day when they ask a question: "who is off on friday?", "who's out next week"
ASKING = re.compile(
    r"^(?:(?:is|are|'s|’s)\s+)?(?:off|out|away|on\s+(?:leave|holiday|vacation))\b(?:\s+(?:on|for)\b)?\s*",
    re.I,
)
WHO_EXAMPLES = "`/leave who`, `/leave who tomorrow`, `/leave who friday`, `/leave who next week` or `/leave who @someone`"


@dataclass(frozen=True)
class WhoQuery:
    """What `/leave who …` asks: some days, or one person's upcoming leave."""

    start: date
    end: date
    slack_user_id: str | None = None


def read_who(words: str, *, today: date) -> WhoQuery:
    """Understand the words after `/leave who`: a day, a span (the parser's), or a mention."""
    text = ASKING.sub("", words.strip().rstrip("?!. ")).strip()
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


async def who(deps: Deps, plan: DigestPlan, words: str, *, today: date) -> list[Message]:
    """The answer to `/leave who …`: who is off on a day or each working day of a span, or one person's leave."""
    query = read_who(words, today=today)
    if query.slack_user_id is not None:
        return [await person_leave(deps, plan, query.slack_user_id, today=today, until=query.end)]
    calendar = await deps.calendar(query.start, plan=plan)
    absences = await deps.shown(await deps.approved(query.start, query.end), plan)
    name = await deps.people.namer(absences)
    heading = who_heading(query.start, query.end, today) + await deps.as_of_words()
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
        messages = [*messages[: MAX_WHO_MESSAGES - 1], more_than_fits(messages[MAX_WHO_MESSAGES - 1])]
    return messages


def _every_day(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def person_leave(
    deps: Deps, plan: DigestPlan, slack_user_id: str, *, today: date, until: date
) -> Message:
    """Someone's approved leave from today until ``until`` (private leave types hidden)."""
    try:
        person = await deps.people.person_for(slack_user_id)
    except UserError:
        raise UserError(
            f"I couldn't find <@{slack_user_id}> in {deps.provider.display_name}, so I can't tell their leave."
        ) from None
    found = await deps.absences_of(person, today, until)
    upcoming = sorted(
        (a for a in await deps.shown(found, plan) if a.status == Status.APPROVED and a.end_date >= today),
        key=lambda a: (a.start_date, a.id),
    )
    return build_person_leave(f"<@{slack_user_id}>", upcoming, until=until)
