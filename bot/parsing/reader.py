"""Items → one span: settle unknown words, split at the range link, pin both ends, apply parts and hours.

The shapes, in the order they are tried: hours on one day (`tue 9am-12pm`), a length from a start
(`3 days from monday`), a range (`A to B`), one day or one week (`fri pm`, `next week`).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta

from bot.parsing import calendar, fallback, named_days
from bot.parsing import words as w
from bot.parsing.errors import EXAMPLES, ParseError
from bot.parsing.grammar import (
    DATE_LIKE,
    And,
    Clock,
    Day,
    Grammar,
    Hours,
    Item,
    Kind,
    Length,
    Link,
    MonthOnly,
    Part,
    Reason,
    Unknown,
    Week,
)
from bot.parsing.specs import DayOfMonth, Relative, end_of, start_of, with_month_of, with_year_of
from providers.models import Part as DayPart

UNTIL = {"until", "till", "til"}


@dataclass(frozen=True)
class Span:
    """What the text asks for, before it becomes a Draft."""

    start_date: date
    end_date: date
    start: DayPart = "AM"
    end: DayPart = "PM"


@dataclass(frozen=True)
class Side:
    """One end of a range (or the whole of a one-day request)."""

    date: Day | Week | None = None
    part: str | None = None
    clock: Clock | None = None


def settle(grammar: Grammar, items: list[Item], *, today: date) -> tuple[list[Item], str]:
    """(items with every unknown word resolved, reason): a reason after the dates, or a date in words."""
    reason = next((i.text for i in items if isinstance(i, Reason)), "")
    items = [i for i in items if not isinstance(i, Reason)]
    while (at := next((n for n, i in enumerate(items) if isinstance(i, Unknown)), None)) is not None:
        before = any(isinstance(i, DATE_LIKE) for i in items[:at])
        after = any(isinstance(i, DATE_LIKE) for i in items[at:])
        if before and not after:  # `fri pm dentist`, `fri - moving house`, `fri pm: dentist`
            bare = grammar.text[grammar.tokens[items[at].first].start :].strip()
            kept = items[: at - 1] if isinstance(items[at - 1], Link) else items[:at]
            return kept, bare
        items = _date_in_words(grammar, items, at, today=today)
    return items, reason


def _date_in_words(grammar: Grammar, items: list[Item], at: int, *, today: date) -> list[Item]:
    """Hand the phrase around ``items[at]`` to dateparser; a date it finds replaces the phrase."""
    first, last = at, at + 1
    while first > 0 and _joins(grammar, items[first - 1], items[first]):
        first -= 1
    while last < len(items) and _joins(grammar, items[last - 1], items[last]):
        last += 1
    start, end = items[first].first, items[last - 1].last
    while start > 0 and grammar.tokens[start - 1].text in w.FILLER:
        start -= 1  # "the day after tomorrow": the fillers belong to the phrase
    phrase = grammar.text[grammar.tokens[start].start : grammar.tokens[end - 1].end]
    found = fallback.read(phrase, today=today, day_first=grammar.day_first)
    if found is None:
        unknown = " ".join(i.word for i in items[first:last] if isinstance(i, Unknown))
        if (answer := named_days.elsewhere(unknown, grammar.country, today)) is not None:
            raise ParseError(answer)
        hint = (
            "A reason goes after the dates, e.g. `/leave fri pm for the dentist`."
            if any(isinstance(i, DATE_LIKE) for i in items)
            else f"Try {EXAMPLES}."
        )
        raise ParseError(f"I couldn't understand “{unknown}”. {hint}")
    day = Day(start, end, spec=Relative((found - today).days))
    return [*items[:first], day, *items[last:]]


def _joins(grammar: Grammar, left: Item, right: Item) -> bool:
    """True when two items belong to one phrase: words and dates with only filler between them."""
    phrase_items = (Unknown, Day, Length, MonthOnly)
    if not isinstance(left, phrase_items) or not isinstance(right, phrase_items):
        return False
    return all(t.text in w.FILLER for t in grammar.tokens[left.last : right.first])


def read_span(
    grammar: Grammar, items: list[Item], *, today: date, holidays: Container[date] = calendar.NO_HOLIDAYS
) -> Span:
    """The one span the items describe."""
    items = [i for i in items if not isinstance(i, Kind)]
    for item in items:
        if isinstance(item, MonthOnly):
            month = w.MONTH_NAMES[item.month]
            raise ParseError(f"Which days in {month}? Try `/leave {month[:3].lower()} 24-26`.")
    while items and isinstance(items[0], Link) and items[0].word not in UNTIL:
        items = items[1:]  # "- fri" (a bullet), "want to take fri off": only `until fri` means from today
    while items and isinstance(items[-1], Link):
        items = items[:-1]  # "fri -", "fri to"
    reader = _Reader(grammar, today, holidays)
    if any(isinstance(i, Hours) for i in items):
        return reader.hourly(items)
    if any(isinstance(i, Length) for i in items):
        return reader.length(items)
    links = [n for n, i in enumerate(items) if isinstance(i, Link | And)]
    if len(links) > 1:
        raise ParseError(f"I can book one stretch of days at a time. Try {EXAMPLES}.")
    if not links:
        return reader.single(reader.side(items))
    span = reader.range(reader.side(items[: links[0]]), reader.side(items[links[0] + 1 :]))
    if isinstance(items[links[0]], And):
        _check_next_to_each_other(span, holidays)  # `today and tomorrow`, `fri and mon`, not `mon and wed`
    return span


@dataclass
class _Reader:
    grammar: Grammar
    today: date
    holidays: Container[date]

    def side(self, items: list[Item]) -> Side:
        """The date, part of day and time of one end."""
        dates = [i for i in items if isinstance(i, Day | Week)]
        if len(dates) > 1:
            words = self.text(dates[0].first, dates[-1].last)
            raise ParseError(f"I found more than one day in “{words}”: which one? Try {EXAMPLES}.")
        parts = {i.part for i in items if isinstance(i, Part)}
        if {"AM", "PM"} <= parts:
            raise ParseError("Morning or afternoon? For the whole day, leave both out: `/leave fri`.")
        part = next((p for p in ("AM", "PM", "HALF", "LUNCH") if p in parts), None)
        clocks = [i for i in items if isinstance(i, Clock)]
        return Side(dates[0] if dates else None, part, clocks[0] if clocks else None)

    def single(self, side: Side) -> Span:
        """One day (with its part) or one week."""
        if side.clock is not None:
            raise ParseError(f"From {side.clock.text} until when? Try `/leave fri 2pm-5pm`.")
        if side.date is None:
            raise ParseError(f"Please say which day you want off. Try {EXAMPLES}.")
        if isinstance(side.date, Week):
            if side.part is not None:
                raise ParseError("Which day of the week is that half day? Try `/leave mon pm to fri`.")
            return Span(*self.week(side.date))
        day = self.pin_start(side.date)
        if side.part in ("HALF", "LUNCH"):
            raise _which_half(day, side.part)
        if side.part is None:
            return Span(day, day)
        part: DayPart = "AM" if side.part == "AM" else "PM"
        return Span(day, day, part, part)

    def range(self, left: Side, right: Side) -> Span:
        """`A to B`: the start from today, the end from the start."""
        if right.date is None and left.date is None:
            raise ParseError(f"Please say which day you want off. Try {EXAMPLES}.")
        left_date = left.date or Day(0, 0, spec=Relative(0))  # "until friday": from today
        start, end = self.pin_range(left_date, right.date)
        if left.part == "HALF" or right.part == "HALF":
            raise _which_half(start if left.part == "HALF" else end, "HALF")
        start_part: DayPart = "PM" if left.part in ("PM", "LUNCH") else "AM"
        end_part: DayPart = "AM" if right.part in ("AM", "LUNCH") else "PM"
        if left.clock is not None or right.clock is not None:
            if left.clock is None or right.clock is None:
                clock = left.clock or right.clock
                assert clock is not None
                raise ParseError(f"“{clock.text}” needs a start and an end time. Try `/leave fri 2pm-5pm`.")
            return Span(start, end, left.clock.minute, right.clock.minute)
        return Span(start, end, start_part, end_part)

    def pin_range(self, left: Day | Week, right: Day | Week | None) -> tuple[date, date]:
        """The first and last days of `left to right` (a missing right end is the same day)."""
        if isinstance(left, Day) and isinstance(right, Day):
            left_spec, right_spec = with_month_of(left.spec, right.spec), with_month_of(right.spec, left.spec)
            left_spec = with_year_of(left_spec, right_spec)  # `5/1-5/7, 2020`: the year ends the range
            for item, spec in ((left, left_spec), (right, right_spec)):
                if isinstance(spec, DayOfMonth) and spec.bare:
                    raise _which_month(self.text(item.first, item.last))
            start = start_of(
                left_spec,
                today=self.today,
                end=lambda first: end_of(right_spec, start=first, today=self.today),
            )
            return _checked(start, left), _checked(end_of(right_spec, start=start, today=self.today), right)
        start = self.week(left)[0] if isinstance(left, Week) else self.pin_start(left)
        if right is None:
            return start, self.week(left)[1] if isinstance(left, Week) else start
        end = self.week(right)[1] if isinstance(right, Week) else _checked(self.pin_end(right, start), right)
        return start, end

    def pin_start(self, day: Day) -> date:
        """A start (or single) day, read from today."""
        if isinstance(day.spec, DayOfMonth) and day.spec.bare:
            raise _which_month(self.text(day.first, day.last))
        return _checked(start_of(day.spec, today=self.today), day)

    def pin_end(self, day: Day, start: date) -> date:
        """An end day, read from its start."""
        if isinstance(day.spec, DayOfMonth) and day.spec.bare:
            raise _which_month(self.text(day.first, day.last))
        return end_of(day.spec, start=start, today=self.today)

    def week(self, week: Week) -> tuple[date, date]:
        """Monday to Friday of a week (or a festival's days); this week starts today; holidays at either end are trimmed."""
        if week.anchor is not None and week.until is not None:
            first, last = start_of(week.anchor, today=self.today), start_of(week.until, today=self.today)
        elif week.anchor is not None:
            monday = calendar.monday_of(start_of(week.anchor, today=self.today))
            first, last = monday, monday + timedelta(days=4)
        else:
            monday = calendar.monday_of(self.today) + timedelta(days=7 * week.offset)
            first, last = monday, monday + timedelta(days=4)
        if week.anchor is None and week.offset == 0:
            first = max(first, self.today)
        while first <= last and not calendar.is_working_day(first, self.holidays):
            first += calendar.ONE_DAY
        while last > first and not calendar.is_working_day(last, self.holidays):
            last -= calendar.ONE_DAY
        if first > last and week.until is not None:
            raise ParseError(
                f"“{self.text(week.first, week.last)}” falls on a weekend: there is no working day to book."
            )
        if first > last:
            raise ParseError("This week has no working days left. Try `/leave next week`.")
        return first, last

    def hourly(self, items: list[Item]) -> Span:
        """`tue 9am-12pm`: hours on exactly one day."""
        hours = [i for i in items if isinstance(i, Hours)]
        days = [i for i in items if isinstance(i, Day | Week)]
        if len(hours) > 1 or any(isinstance(i, Link | And | Length | Week) for i in items) or len(days) > 1:
            raise ParseError("Hours can be booked on one day at a time. Try `/leave tue 9am-12pm`.")
        day = self.pin_start(days[0]) if days and isinstance(days[0], Day) else self.today  # `3-4pm`: today
        return Span(day, day, hours[0].start, hours[0].end)

    def length(self, items: list[Item]) -> Span:
        """`3 days from monday`, `2 weeks from dec 7`: working days from a start."""
        lengths = [i for i in items if isinstance(i, Length)]
        length = lengths[0]
        if len(lengths) > 1 or any(isinstance(i, Link | And) for i in items):
            raise ParseError(
                "Give either a length or an end date, not both. Try `/leave 3 days from monday` or `/leave mon-wed`."
            )
        side = self.side([i for i in items if not isinstance(i, Length)])
        if side.date is None and length.start is not None:
            side = Side(length.start, side.part, side.clock)
        if side.date is None:
            raise ParseError(f"{length.text} from when? Try `/leave {length.text} from monday`.")
        if side.clock is not None:
            raise ParseError(
                f"Hours can be booked on one day at a time. Try `/leave {length.text} from monday`."
            )
        start = self.week(side.date)[0] if isinstance(side.date, Week) else self.pin_start(side.date)
        first, last, from_lunch, to_lunch = calendar.working_length(
            start, from_lunch=side.part in ("PM", "LUNCH"), halves=length.halves, holidays=self.holidays
        )
        return Span(first, last, "PM" if from_lunch else "AM", "AM" if to_lunch else "PM")

    def text(self, first: int, last: int) -> str:
        """The cleaned text of tokens ``first`` to ``last``."""
        tokens = self.grammar.tokens
        if first >= last:
            return ""
        return self.grammar.text[tokens[first].start : tokens[last - 1].end]


def _check_next_to_each_other(span: Span, holidays: Container[date]) -> None:
    between = (span.start_date + timedelta(days=n) for n in range(1, (span.end_date - span.start_date).days))
    if any(calendar.is_working_day(day, holidays) for day in between):
        raise ParseError(
            f"I can book one stretch of days at a time, and {_words(span.start_date)} and {_words(span.end_date)} "
            f"have working days between them. Try `/leave {_words(span.start_date).lower()} - "
            f"{_words(span.end_date).lower()}` for the whole stretch."
        )


def _checked(day: date, item: Day | Week) -> date:
    """``day``, unless the text also named a weekday it does not fall on (`fri 28 nov`)."""
    if isinstance(item, Day) and item.check is not None and day.weekday() != item.check:
        actual, named = w.WEEKDAY_NAMES[day.weekday()], w.WEEKDAY_NAMES[item.check]
        raise ParseError(
            f"{_words(day)} {day.year} is a {actual}, not a {named}. Try `/leave {_words(day).lower()}`."
        )
    return day


def _which_half(day: date, part: str) -> ParseError:
    short = f"{day:%a}".lower()
    if part == "LUNCH":
        return ParseError(
            f"Before or after lunch on {_words(day)}? Try `/leave {short} before lunch` or `/leave {short} after lunch`."
        )
    return ParseError(
        f"Which half of {_words(day)}: the morning or the afternoon? Try `/leave {short} am` or `/leave {short} pm`."
    )


def _which_month(text: str) -> ParseError:
    number = int(text) if text.isdigit() else 24
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return ParseError(
        f"Which month is “{text}” in? Try `/leave {number} dec` or `/leave the {number}{suffix}`."
    )


def _words(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"
