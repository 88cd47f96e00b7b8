"""Properties of the parser over generated text: it always answers, and reads dates consistently.

How fast it answers is measured by benchmarks/parse.py, not here: a timed test fails on a busy machine.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import ParseError, order_matters, parse_request
from bot.parsing import words as w
from providers.models import Draft, LeaveType

TODAY = date(2026, 11, 23)
TYPES = [LeaveType(id="1", name="Annual Leave"), LeaveType(id="2", name="Sick Leave")]
VOCABULARY = sorted(
    {
        *w.WEEKDAYS,
        *w.MONTHS,
        *w.RELATIVE_DAYS,
        *w.NUMBER_WORDS,
        *w.UNITS,
        *w.MORNING,
        *w.AFTERNOON,
        *w.LUNCH,
        *w.HALF,
        *w.RANGE_WORDS,
        *w.FROM_WORDS,
        *w.REASON_WORDS,
        *w.THIS,
        *w.NEXT,
        *w.FILLER,
        *w.LEAVE_TYPE_WORDS,
        *("for", "and", "between", "last", "week", "rest", "after", "before", "in", "w/c", "of", "the"),
        *(
            "9am",
            "12pm",
            "09:00",
            "12:30",
            "9.30am",
            "24th",
            "3rd",
            "2026-12-24",
            "24/12",
            "12/24/2026",
            "29",
        ),
        *("0", "7", "13", "31", "32", "2027", "1.5", '"', "“", ":", ",", "!", "🎉", ":palm_tree:", "dentist"),
    }
)
grammar_like = st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join)
any_text = st.text(max_size=200) | grammar_like
dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 12, 31))


def outcome(text: str) -> Draft | str:
    """The draft ``text`` becomes, or the word "error"; any other exception fails the test."""
    try:
        return parse_request(text, today=TODAY, leave_types=TYPES)
    except ParseError:
        return "error"


@settings(max_examples=1500, deadline=None)
@given(any_text)
def test_any_text_gives_a_draft_or_a_clear_error(text: str) -> None:
    """Any string at all becomes a draft or a ParseError, never another exception."""
    outcome(text)


@settings(max_examples=300, deadline=None)
@given(grammar_like)
def test_case_does_not_matter(text: str) -> None:
    """Upper case reads as lower case (only the reason keeps the case it was typed in)."""
    lower, upper = outcome(text.lower()), outcome(text.upper())
    if isinstance(lower, Draft) and isinstance(upper, Draft):
        assert upper.model_copy(update={"reason": upper.reason.lower()}) == lower
    else:
        assert lower == upper


@settings(max_examples=300, deadline=None)
@given(grammar_like, st.sampled_from(["!", ".", "...", " 🎉", " :tada:", " 🏖️!", "?!"]))
def test_spaces_trailing_punctuation_and_emoji_do_not_matter(text: str, tail: str) -> None:
    """Runs of spaces, and punctuation or emoji at the end, change nothing."""
    assert outcome(f"  {text.replace(' ', '   ')}{tail}  ") == outcome(text)


@settings(max_examples=200, deadline=None)
@given(dates)
def test_an_iso_date_is_that_whole_day(day: date) -> None:
    """`YYYY-MM-DD` is that whole day, whatever today is."""
    assert outcome(day.isoformat()) == Draft(start_date=day, end_date=day)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=0, max_value=364))
def test_an_iso_range_is_those_days(first: date, length: int) -> None:
    """`A to B` with ISO dates covers exactly A to B."""
    last = first + timedelta(days=length)
    assert outcome(f"{first} to {last}") == Draft(start_date=first, end_date=last)


@settings(max_examples=300, deadline=None)
@given(dates, dates)
def test_a_day_and_month_is_the_next_one_not_in_the_past(today: date, day: date) -> None:
    """`24 Dec` is the first 24 December on or after today (29 Feb: the next leap year's)."""
    month = w.MONTH_NAMES[day.month]
    draft = parse_request(f"{day.day} {month}", today=today)

    assert (draft.start_date.month, draft.start_date.day) == (day.month, day.day)
    assert (
        today
        <= draft.start_date
        < today + timedelta(days=366 * (4 if (day.month, day.day) == (2, 29) else 1))
    )


@settings(max_examples=200, deadline=None)
@given(dates, st.sampled_from(w.WEEKDAY_NAMES))
def test_a_weekday_is_its_next_occurrence_after_today(today: date, name: str) -> None:
    """A weekday name is the first day with that name after today (a week on, when today has it)."""
    draft = parse_request(name, today=today)

    assert draft.start_date.strftime("%A") == name
    assert today < draft.start_date <= today + timedelta(days=7)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=1, max_value=60))
def test_a_length_counts_working_days(start: date, count: int) -> None:
    """`N days from A` covers N weekdays, from the first weekday on or after A."""
    draft = parse_request(f"{count} days from {start}", today=TODAY)
    covered = [d for d in draft.days() if d.weekday() < 5]

    assert len(covered) == count
    assert draft.start_date.weekday() < 5 and draft.end_date.weekday() < 5
    assert draft.start_date - start < timedelta(days=3)


def reading(text: str, *, day_first: bool) -> Draft | str:
    try:
        return parse_request(text, today=TODAY, dates_day_first=day_first)
    except ParseError as exc:
        return str(exc)


@settings(max_examples=500, deadline=None)
@given(
    grammar_like
    | st.sampled_from(["eight", "7/4", "4 7", "the fourth", "24122026", "fri pm for the dentist"])
)
def test_order_matters_exactly_when_the_two_orders_read_differently(text: str) -> None:
    """`order_matters` (before the ack, for a typist whose locale is not known yet) parses once when nothing
    in the text is read by the order of numeric dates, and still says what two full parses say."""
    assert order_matters(text, today=TODAY) == (
        reading(text, day_first=True) != reading(text, day_first=False)
    )
