"""What a date in a request says before it is pinned to the calendar, and how each kind is pinned.

A start is read relative to today; an end relative to its start, so `Dec 24 - Jan 2` crosses the
year end and `fri-tue` ends on the Tuesday after that Friday (`fri-fri` on the Friday a week later). A date without a year (or a month) is
the next one not in the past; for a range, the first one whose end is not in the past, so
`nov 20-25` typed on 23 November is this week's, not next year's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from bot.parsing import calendar
from bot.parsing.errors import ParseError
from bot.parsing.words import MONTH_NAMES


@dataclass(frozen=True)
class Fixed:
    """A date given in full (ISO, or with a year)."""

    day: date


@dataclass(frozen=True)
class MonthDay:
    """`24 Dec`, `12/24` in en-US: a day of a month, perhaps without a year."""

    month: int
    day: int
    year: int | None = None


@dataclass(frozen=True)
class DayOfMonth:
    """`the 3rd`; ``bare`` for a plain number that needs a month from the other end (`24-26 dec`)."""

    day: int
    bare: bool = False


@dataclass(frozen=True)
class Weekday:
    """`fri`, `this fri`, `next fri`, `last fri`, `fri next week` (week=1), `fri week` (mode "week")."""

    weekday: int
    mode: str = "plain"
    week: int | None = None


@dataclass(frozen=True)
class Relative:
    """`today`, `tomorrow`, `yesterday`, or a date another parser pinned (`the day after tomorrow`)."""

    days: int


Spec = Fixed | MonthDay | DayOfMonth | Weekday | Relative


def with_month_of(spec: Spec, other: Spec) -> Spec:
    """A day of the month that borrows ``other``'s month and year: `24` of `24-26 dec`."""
    if isinstance(spec, DayOfMonth) and isinstance(other, Fixed | MonthDay):
        month, year = (
            (other.day.month, other.day.year) if isinstance(other, Fixed) else (other.month, other.year)
        )
        return MonthDay(month, spec.day, year)
    return spec


def with_year_of(spec: Spec, end: Spec) -> Spec:
    """A start without a year that borrows the year of a range's end: `dec 28 - jan 3 2027` starts in 2026."""
    if isinstance(spec, MonthDay) and spec.year is None and isinstance(end, Fixed | MonthDay):
        year, month = (end.day.year, end.day.month) if isinstance(end, Fixed) else (end.year, end.month)
        if year is not None:
            return MonthDay(spec.month, spec.day, year - 1 if spec.month > month else year)
    return spec


def start_of(spec: Spec, *, today: date, end: Callable[[date], date] | None = None) -> date:
    """The first day of a request; ``end`` pins the last day for a given first day (ranges)."""
    candidates = _candidates(spec, today)
    if candidates is None:
        return _pinned(spec, today)
    ends_after = end or (lambda first: first)
    found = next((first for first in candidates if ends_after(first) >= today), None)
    # An end in the past whatever the start (`dec 24 to 2025-01-05`): the next start, and the model says why.
    return found or next(first for first in _candidates(spec, today) or () if first >= today)


def end_of(spec: Spec, *, start: date, today: date) -> date:
    """The last day of a request that starts on ``start``."""
    if isinstance(spec, MonthDay) and spec.year is None:
        day = _month_day(start.year, spec)
        if day < start and spec.month < start.month:
            day = _month_day(start.year + 1, spec)  # Dec 24 - Jan 2
        return day
    if isinstance(spec, DayOfMonth):
        return next(d for d in calendar.day_of_month_occurrences(spec.day, around=start) if d >= start)
    if isinstance(spec, Weekday) and spec.mode in ("plain", "this", "next") and spec.week is None:
        # Like a single weekday, the one after the start (`fri-fri` is a week, `until monday` on a Monday
        # is next Monday); `this` includes the start itself.
        first = start if spec.mode == "this" else start + timedelta(days=1)
        return calendar.weekday_on_or_after(first, spec.weekday)
    return _pinned(spec, today)


def _candidates(spec: Spec, today: date) -> Iterator[date] | None:
    if isinstance(spec, MonthDay) and spec.year is None:
        _check_day(spec.month, spec.day, None)
        return calendar.month_day_occurrences(spec.month, spec.day, around=today)
    if isinstance(spec, DayOfMonth):
        if not 1 <= spec.day <= 31:
            raise ParseError(f"There is no day {spec.day} in a month. Try `/leave the 3rd`.")
        return calendar.day_of_month_occurrences(spec.day, around=today)
    return None


def _pinned(spec: Spec, today: date) -> date:
    if isinstance(spec, Fixed):
        return spec.day
    if isinstance(spec, MonthDay):
        assert spec.year is not None
        return _month_day(spec.year, spec)
    if isinstance(spec, Relative):
        return today + timedelta(days=spec.days)
    assert isinstance(spec, Weekday)
    return _weekday(spec, today)


def _weekday(spec: Weekday, today: date) -> date:
    if spec.week is not None:
        return calendar.monday_of(today) + timedelta(days=7 * spec.week + spec.weekday)
    if spec.mode == "this":
        return calendar.weekday_on_or_after(today, spec.weekday)
    if spec.mode == "last":
        return calendar.weekday_on_or_after(today - timedelta(days=7), spec.weekday)
    following = calendar.weekday_on_or_after(today + timedelta(days=1), spec.weekday)
    return following + timedelta(days=7) if spec.mode == "week" else following


def _month_day(year: int, spec: MonthDay) -> date:
    _check_day(spec.month, spec.day, year)
    return date(year, spec.month, spec.day)


def _check_day(month: int, day: int, year: int | None) -> None:
    longest = calendar.days_in_month(year or 2028, month)  # 2028: a leap year, so 29 Feb exists somewhere
    if not 1 <= day <= longest:
        when = f"{day} {MONTH_NAMES[month]}{f' {year}' if year else ''}"
        example = f"{min(max(day, 1), longest)} {MONTH_NAMES[month][:3].lower()}"
        raise ParseError(f"There is no {when}. Try `/leave {example}`.")
