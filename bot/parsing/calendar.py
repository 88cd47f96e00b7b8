"""Calendar arithmetic for requests: the next weekday, the next 24 December, weeks and working days.

Working days are Monday to Friday minus ``holidays``: the hook for public holidays, which the parser
passes through from `parse_request(..., holidays=...)` (empty until a provider supplies them).
"""

from __future__ import annotations

import calendar
from collections.abc import Container, Iterator
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)
NO_HOLIDAYS: frozenset[date] = frozenset()


def is_working_day(day: date, holidays: Container[date] = NO_HOLIDAYS) -> bool:
    """Monday to Friday, and not a holiday."""
    return day.weekday() < 5 and day not in holidays


def next_working_day(day: date, holidays: Container[date] = NO_HOLIDAYS) -> date:
    """``day`` itself if it is a working day, else the first one after it (within a month)."""
    for offset in range(31):
        candidate = day + timedelta(days=offset)
        if is_working_day(candidate, holidays):
            return candidate
    return day  # a month without a working day is a broken holiday list, not a reason to loop forever


def weekday_on_or_after(day: date, weekday: int) -> date:
    """The first ``weekday`` (0 = Monday) on or after ``day``."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def monday_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def days_in_month(year: int, month: int) -> int:
    """28 to 31."""
    return calendar.monthrange(year, month)[1]


def month_day_occurrences(month: int, day: int, *, around: date) -> Iterator[date]:
    """Every ``day`` of ``month`` from the year before ``around`` on, skipping years without it (29 Feb)."""
    for year in range(around.year - 1, around.year + 9):
        if day <= days_in_month(year, month):
            yield date(year, month, day)


def day_of_month_occurrences(day: int, *, around: date) -> Iterator[date]:
    """Every ``day`` of a month from the month before ``around`` on, skipping months too short for it."""
    year, month = (around.year, around.month - 1) if around.month > 1 else (around.year - 1, 12)
    for _ in range(14):
        if day <= days_in_month(year, month):
            yield date(year, month, day)
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)


def working_length(
    start: date, *, from_lunch: bool, halves: int, holidays: Container[date] = NO_HOLIDAYS
) -> tuple[date, date, bool, bool]:
    """(first day, last day, starts after lunch, ends at lunch) of ``halves`` working half-days from ``start``.

    A start on a weekend or holiday moves to the next working day (from its morning); starting after
    lunch uses the afternoon first, so 3 days from Monday afternoon end on Thursday at lunchtime.
    """
    first = next_working_day(start, holidays)
    from_lunch = from_lunch and first == start
    day, half = first, 1 if from_lunch else 0
    for _ in range(halves - 1):
        if half == 0:
            half = 1
        else:
            day, half = next_working_day(day + ONE_DAY, holidays), 0
    return first, day, from_lunch, half == 0


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter: 31 Jan + 1 → 28 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def period_bounds(year: int, month: int | None) -> tuple[date, date]:
    """The first and last day of a month, or of a whole year when ``month`` is None."""
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    return date(year, month, 1), date(year, month, days_in_month(year, month))


def nth_in_period(first: date, last: date, n: int, *, unit: str, weekday: int | None = None) -> date | None:
    """The ``n``-th (from the end when negative) day, ``weekday`` or whole Monday–Sunday week (its Monday)
    between ``first`` and ``last``; None when there are not that many."""
    if unit == "week":
        monday = weekday_on_or_after(first, 0)
        days = [
            monday + timedelta(days=7 * k) for k in range(54) if monday + timedelta(days=7 * k + 6) <= last
        ]
    elif weekday is not None:
        start = weekday_on_or_after(first, weekday)
        days = [start + timedelta(days=7 * k) for k in range(54) if start + timedelta(days=7 * k) <= last]
    else:
        days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    index = n - 1 if n > 0 else n
    return days[index] if -len(days) <= index < len(days) else None


def nth_weekday_after(day: date, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` after ``day`` (`3 fridays from now`)."""
    return weekday_on_or_after(day + ONE_DAY, weekday) + timedelta(days=7 * (n - 1))
