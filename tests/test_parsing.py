"""The foundation's grammar for `/leave <text>`, read relative to Monday 23 November 2026."""

from __future__ import annotations

from datetime import date

import pytest

from bot.parsing import ParseError, parse_request
from providers.models import Draft, LeaveType

TODAY = date(2026, 11, 23)  # a Monday
LEAVE_TYPES = [LeaveType(id="1", name="Annual leave"), LeaveType(id="2", name="Sick leave")]


def parse(text: str) -> Draft:
    """Parse ``text`` as if typed today, with the two test leave types on offer."""
    return parse_request(text, today=TODAY, leave_types=LEAVE_TYPES)


def whole_days(start: date, end: date) -> Draft:
    """The draft for whole days from ``start`` to ``end``."""
    return Draft(start_date=start, end_date=end, start="AM", end="PM")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        pytest.param("2026-12-24", date(2026, 12, 24), id="iso-date"),
        pytest.param("today", TODAY, id="today"),
        pytest.param("tomorrow", date(2026, 11, 24), id="tomorrow"),
        pytest.param("fri", date(2026, 11, 27), id="short-weekday"),
        pytest.param("friday", date(2026, 11, 27), id="weekday"),
        pytest.param("mon", TODAY, id="weekday-is-today"),
        pytest.param("sun", date(2026, 11, 29), id="weekend-day"),
    ],
)
def test_one_day_is_a_whole_day(text: str, day: date) -> None:
    """A date, `today`, `tomorrow` or a weekday name (the next one, today included) is that whole day."""
    assert parse(text) == whole_days(day, day)


def test_range_covers_whole_days_from_start_to_end() -> None:
    """`A to B` covers whole days from A to B."""
    assert parse("2026-12-21 to 2026-12-24") == whole_days(date(2026, 12, 21), date(2026, 12, 24))


@pytest.mark.parametrize(
    ("text", "part"),
    [
        pytest.param("tomorrow am", "AM", id="am"),
        pytest.param("tomorrow morning", "AM", id="morning"),
        pytest.param("tomorrow pm", "PM", id="pm"),
        pytest.param("tomorrow afternoon", "PM", id="afternoon"),
    ],
)
def test_half_day_on_one_day(text: str, part: str) -> None:
    """A morning or afternoon word on one day books only that half of it."""
    draft = parse(text)

    assert (draft.start_date, draft.end_date) == (date(2026, 11, 24), date(2026, 11, 24))
    assert (draft.start, draft.end) == (part, part)


def test_half_days_on_range_ends() -> None:
    """`mon pm to wed am` starts after lunch on Monday and ends at lunchtime on Wednesday."""
    assert parse("mon pm to wed am") == Draft(
        start_date=TODAY, end_date=date(2026, 11, 25), start="PM", end="AM"
    )


def test_hours_become_minutes_of_the_day() -> None:
    """`09:00-12:30` books those hours, as minutes of the day."""
    draft = parse("tomorrow 09:00-12:30")

    assert draft.start_date == draft.end_date == date(2026, 11, 24)
    assert (draft.start, draft.end) == (540, 750)


def test_leave_type_named_in_the_text() -> None:
    """A word naming one of the offered leave types picks that type and is not read as a date."""
    draft = parse("sick tomorrow")

    assert draft.leave_type == "Sick leave"
    assert draft.start_date == date(2026, 11, 24)


def test_no_leave_type_named() -> None:
    """A text naming no leave type leaves the type unset."""
    assert parse("tomorrow").leave_type is None


def test_reason_follows_for() -> None:
    """Everything after `for` is the reason, kept as typed."""
    draft = parse("fri pm for the Dentist")

    assert draft.reason == "the Dentist"
    assert (draft.start_date, draft.start, draft.end) == (date(2026, 11, 27), "PM", "PM")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param("blah", "blah", id="unknown-word"),
        pytest.param("", "which day", id="empty"),
        pytest.param("2026-11-27 to 2026-11-25", "end date is before the start date", id="end-before-start"),
        pytest.param("tomorrow 09:00-25:00", "09:00-25:00", id="hour-25"),
    ],
)
def test_text_not_understood_says_what_and_shows_an_example(text: str, named: str) -> None:
    """A text that cannot be read raises ParseError naming the problem and showing `/leave tomorrow`."""
    with pytest.raises(ParseError) as caught:
        parse(text)

    assert named in str(caught.value)
    assert "/leave tomorrow" in str(caught.value)
