"""The normalized leave model: what a span may be, and how its days read."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from providers.models import (
    MAX_REASON,
    MAX_SPAN_DAYS,
    Draft,
    HolidayRequest,
    LeaveSpan,
    Part,
    Person,
    part_from_text,
    part_to_text,
)

DAY = date(2018, 1, 1)  # a Monday, as in Timetastic's examples
NEXT = DAY + timedelta(days=1)
ALICE = Person(id="1", name="Alice", email="alice@x.com")
SPAN_MODELS = [LeaveSpan, Draft, HolidayRequest]
# Small and quick: examples are not kept between runs, and a loaded machine is no failure.
QUICK = settings(max_examples=80, deadline=None, database=None)


def make(model: type[LeaveSpan], start_date: date, start: Any, end_date: date, end: Any) -> LeaveSpan:
    """One of the span models, with whatever else it requires."""
    extra: dict[str, Any] = {"requester": ALICE} if model is HolidayRequest else {}
    return model(start_date=start_date, start=start, end_date=end_date, end=end, **extra)


REFUSED = {
    "end before start": ((NEXT, "AM", DAY, "PM"), "the end date is before the start date"),
    "hourly ending at its start": ((DAY, 540, DAY, 540), "an hourly booking must end after it starts"),
    "hourly ending before its start": ((DAY, 720, DAY, 540), "an hourly booking must end after it starts"),
    "hourly across days": (
        (DAY, 540, NEXT, 720),
        "an hourly booking needs a start and an end time on the same day",
    ),
    "morning to a minute": (
        (DAY, "AM", DAY, 720),
        "an hourly booking needs a start and an end time on the same day",
    ),
    "a minute to afternoon": (
        (DAY, 540, DAY, "PM"),
        "an hourly booking needs a start and an end time on the same day",
    ),
    "afternoon to morning of one day": (
        (DAY, "PM", DAY, "AM"),
        "an afternoon start cannot end in the morning of the same day",
    ),
    "366 days": ((DAY, "AM", DAY + timedelta(days=365), "PM"), "a request can cover at most 365 days"),
    "minute below 0": ((DAY, -1, DAY, 60), "Input should be greater than or equal to 0"),
    "minute past 23:59": ((DAY, 60, DAY, 1440), "Input should be less than or equal to 1439"),
}


@pytest.mark.parametrize("model", SPAN_MODELS)
@pytest.mark.parametrize(("bounds", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_impossible_spans_are_refused_in_words(
    model: type[LeaveSpan], bounds: tuple[Any, ...], message: str
) -> None:
    """Every span model refuses an impossible span with a message saying what is wrong."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        make(model, *bounds)


@pytest.mark.parametrize("model", SPAN_MODELS)
def test_a_year_of_days_is_the_longest_span(model: type[LeaveSpan]) -> None:
    """A span may cover 365 calendar days."""
    span = make(model, DAY, "AM", DAY + timedelta(days=MAX_SPAN_DAYS - 1), "PM")
    assert len(span.days()) == MAX_SPAN_DAYS


def test_draft_reason_is_limited() -> None:
    """A Draft's reason may be 500 characters, not one more."""
    Draft(start_date=DAY, end_date=DAY, reason="x" * MAX_REASON)
    with pytest.raises(ValidationError, match="String should have at most 500 characters"):
        Draft(start_date=DAY, end_date=DAY, reason="x" * (MAX_REASON + 1))


# Timetastic's "Request a Holiday" table, read through part_on and describe. Its two half-day rows end on
# the next day ("2018-01-01 AM → 2018-01-02 AM: just the morning"), which reads as a typo for the same
# day (shared/reference/providers.md); they are written here with the same date.
TIMETASTIC = {
    "2 full days": ((DAY, "AM", NEXT, "PM"), ["all day", "all day"], "Mon 1 Jan – Tue 2 Jan"),
    "1 full day": ((DAY, "AM", DAY, "PM"), ["all day"], "Mon 1 Jan"),
    "just the morning": ((DAY, "AM", DAY, "AM"), ["morning"], "Mon 1 Jan (morning)"),
    "just the afternoon": ((DAY, "PM", DAY, "PM"), ["afternoon"], "Mon 1 Jan (afternoon)"),
    "afternoon then morning": (
        (DAY, "PM", NEXT, "AM"),
        ["afternoon", "morning"],
        "Mon 1 Jan (afternoon) – Tue 2 Jan (morning)",
    ),
    "9am to noon": ((DAY, 540, DAY, 720), ["09:00–12:00"], "Mon 1 Jan (09:00–12:00)"),
    "afternoon start, three days": (
        (DAY, "PM", DAY + timedelta(days=2), "PM"),
        ["afternoon", "all day", "all day"],
        "Mon 1 Jan (afternoon) – Wed 3 Jan",
    ),
}


@pytest.mark.parametrize(("bounds", "parts", "words"), TIMETASTIC.values(), ids=TIMETASTIC.keys())
def test_parts_follow_timetastics_booking_table(
    bounds: tuple[Any, ...], parts: list[str], words: str
) -> None:
    """Start AM is the morning on, start PM after lunch; end AM is until lunch, end PM the whole day."""
    span = make(LeaveSpan, *bounds)
    assert [span.part_on(day) for day in span.days()] == parts
    assert span.describe(this_year=DAY.year) == words  # within the reader's year: no year written


@pytest.mark.parametrize("part", ["AM", "PM", 0, 540, 1439])
def test_parts_round_trip_through_text(part: Part) -> None:
    """A part stored as text reads back as the same part."""
    assert part_from_text(part_to_text(part)) == part


@st.composite
def spans(draw: st.DrawFn) -> LeaveSpan:
    """Any valid span: whole or half days up to a year long, or minutes within one day."""
    start_date = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
    length = draw(st.integers(min_value=0, max_value=MAX_SPAN_DAYS - 1))
    if length == 0 and draw(st.booleans()):
        start = draw(st.integers(min_value=0, max_value=1438))
        end = draw(st.integers(min_value=start + 1, max_value=1439))
        return LeaveSpan(start_date=start_date, end_date=start_date, start=start, end=end)
    start_part, end_part = draw(st.sampled_from([("AM", "PM"), ("AM", "AM"), ("PM", "PM"), ("PM", "AM")]))
    if length == 0 and (start_part, end_part) == ("PM", "AM"):
        length = 1
    end_date = start_date + timedelta(days=length)
    return LeaveSpan(start_date=start_date, end_date=end_date, start=start_part, end=end_part)


@QUICK
@given(spans())
def test_valid_spans_round_trip(span: LeaveSpan) -> None:
    """Any valid span survives model_dump/model_validate and JSON unchanged."""
    assert LeaveSpan.model_validate(span.model_dump()) == span
    assert LeaveSpan.model_validate_json(span.model_dump_json()) == span


@QUICK
@given(spans())
def test_days_are_every_covered_day(span: LeaveSpan) -> None:
    """days() lists (end - start) + 1 consecutive days, each covered, and nothing either side is."""
    days = span.days()
    assert len(days) == (span.end_date - span.start_date).days + 1
    assert (days[0], days[-1]) == (span.start_date, span.end_date)
    assert all(span.covers(day) for day in days)
    assert not span.covers(span.start_date - timedelta(days=1))
    assert not span.covers(span.end_date + timedelta(days=1))


@QUICK
@given(spans())
def test_part_on_is_a_known_part_of_the_day(span: LeaveSpan) -> None:
    """part_on names a whole day, a morning, an afternoon or a time range, on every covered day."""
    for day in span.days():
        part = span.part_on(day)
        assert part in {"all day", "morning", "afternoon"} or re.fullmatch(
            r"([01]\d|2[0-3]):[0-5]\d–([01]\d|2[0-3]):[0-5]\d", part
        ), part


@QUICK
@given(st.sampled_from(["AM", "PM"]) | st.integers(min_value=0, max_value=1439))
def test_any_part_round_trips_through_text(part: Part) -> None:
    """Every part, stored as text, reads back as itself."""
    assert part_from_text(part_to_text(part)) == part
