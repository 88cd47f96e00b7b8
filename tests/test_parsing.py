"""The parser's rules beyond the corpus: locales, time zones, leave-type matching, holidays, dateparser's place."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.parsing import ParseError, day_first, fallback, parse_request, today_in
from providers.models import Draft, LeaveType

TODAY = date(2026, 11, 23)  # a Monday


def types(*names: str) -> list[LeaveType]:
    """Leave types with these names, as a provider would list them."""
    return [LeaveType(id=str(n), name=name) for n, name in enumerate(names, start=1)]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en-GB", True), ("en-US", False), ("en_US", False), ("EN-us", False), ("en", True), ("en-IE", True)],
)
def test_numeric_dates_follow_the_locale(locale: str, expected: bool) -> None:
    """en-US writes numeric dates month first; every other English locale day first."""
    assert day_first(locale) is expected


@pytest.mark.parametrize("locale", ["fr-FR", "de", ""])
def test_a_locale_that_is_not_english_is_refused_clearly(locale: str) -> None:
    """A non-English locale is a ParseError that says what is supported, not a wrong reading."""
    with pytest.raises(ParseError, match="en-GB or en-US"):
        parse_request("tomorrow", today=TODAY, locale=locale)


def test_today_is_the_date_in_the_requesters_zone() -> None:
    """The same instant is a different date in Auckland and in Los Angeles."""
    instant = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)

    assert today_in(ZoneInfo("Pacific/Auckland"), instant) == date(2026, 11, 24)
    assert today_in(ZoneInfo("America/Los_Angeles"), instant) == date(2026, 11, 23)


def test_holidays_are_skipped_when_counting_working_days() -> None:
    """The public-holiday hook: `3 days from dec 24` skips the holidays it is given."""
    draft = parse_request(
        "3 days from dec 24", today=TODAY, holidays={date(2026, 12, 25), date(2026, 12, 28)}
    )

    assert (draft.start_date, draft.end_date) == (date(2026, 12, 24), date(2026, 12, 30))


def test_a_week_starting_on_a_holiday_starts_the_day_after() -> None:
    """`next week` with a holiday on its Monday runs Tuesday to Friday."""
    draft = parse_request("next week", today=TODAY, holidays={date(2026, 11, 30)})

    assert (draft.start_date, draft.end_date) == (date(2026, 12, 1), date(2026, 12, 4))


def test_a_leave_types_own_name_beats_a_word_of_the_same_meaning() -> None:
    """`pto` picks "Paid Time Off" (its initials) over "Holiday" (a word of the same meaning)."""
    draft = parse_request("pto fri", today=TODAY, leave_types=types("Holiday", "Paid Time Off"))

    assert draft.leave_type == "Paid Time Off"


def test_any_leave_type_is_matched_by_a_word_of_its_name() -> None:
    """A provider's own type, unknown to the grammar, is matched by its distinctive word."""
    draft = parse_request("training on fri", today=TODAY, leave_types=types("Annual Leave", "Training Day"))

    assert draft.leave_type == "Training Day"


def test_a_leave_type_name_never_takes_a_word_of_the_grammar() -> None:
    """A type called "Work From Home" does not turn `from` or `work` into a leave type."""
    draft = parse_request("3 work days from monday", today=TODAY, leave_types=types("Work From Home"))

    assert draft.leave_type is None
    assert (draft.start_date, draft.end_date) == (date(2026, 11, 30), date(2026, 12, 2))


def test_a_quoted_reason_and_a_reason_after_for_are_both_kept() -> None:
    """A quoted reason and a `for …` reason in one text are joined, quoted first."""
    draft = parse_request('"moving house" fri for the van', today=TODAY)

    assert draft.reason == "moving house – the van"


def test_a_very_long_text_is_refused_before_it_is_read() -> None:
    """A text over 1000 characters is refused at once, which keeps the parse time bounded."""
    with pytest.raises(ParseError, match="too long"):
        parse_request("a" * 1001, today=TODAY)


def test_dateparser_is_pinned_to_english() -> None:
    """The one dateparser instance is pinned to English and never retries other locales."""
    parser = fallback._parser(TODAY, True)

    assert parser.languages == ["en"]
    assert parser.try_previous_locales is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [("the day after tomorrow", date(2026, 11, 25)), ("in 2 weeks", date(2026, 12, 7))],
)
def test_a_date_in_words_the_grammar_lacks_is_read_by_dateparser(text: str, expected: date) -> None:
    """A phrase no rule knows is handed whole to dateparser, and its day is booked."""
    assert parse_request(text, today=TODAY) == Draft(start_date=expected, end_date=expected)


@pytest.mark.parametrize("phrase", ["next month", "december", "tomorrow at 5pm", "next year"])
def test_dateparser_answers_that_name_no_single_day_are_not_taken(phrase: str) -> None:
    """dateparser finds a month, a year or a time of day in these; none of them is a day off, so none is taken."""
    raw = fallback._parser(TODAY, True).get_date_data(phrase)

    assert raw.date_obj is not None
    assert fallback.read(phrase, today=TODAY, day_first=True) is None


def test_the_grammar_alone_never_imports_dateparser() -> None:
    """Parsing everyday text in a fresh process does not import dateparser; warm_up() does."""
    script = (
        "import sys, datetime; from bot.parsing import parse_request, warm_up;"
        "parse_request('dec 24 - jan 2 pm for the dentist', today=datetime.date(2026, 11, 23));"
        "print('dateparser' in sys.modules); warm_up(); print('dateparser' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)

    assert result.stdout.split() == ["False", "True"], result.stderr


def span(text: str, **context: object) -> tuple[date, date, object, object]:
    """(first day, last day, start part, end part) of ``text`` said on TODAY."""
    draft = parse_request(text, today=TODAY, **context)  # type: ignore[arg-type]
    return draft.start_date, draft.end_date, draft.start, draft.end


@pytest.mark.parametrize(
    ("country", "text", "expected"),
    [
        ("US", "thanksgiving", date(2026, 11, 26)),
        ("US", "thanksgiving 2027", date(2027, 11, 25)),
        ("US", "the day after thanksgiving", date(2026, 11, 27)),
        ("US", "memorial day", date(2027, 5, 31)),
        ("GB", "boxing day", date(2026, 12, 26)),
        ("GB", "easter monday", date(2027, 3, 29)),
        ("NL", "koningsdag", date(2027, 4, 27)),
        (None, "christmas", date(2026, 12, 25)),
        (None, "diwali 2027", date(2027, 10, 29)),
    ],
)
def test_a_named_holiday_is_that_countrys_day(country: str | None, text: str, expected: date) -> None:
    """A holiday's name is the company's country's day (or a religious calendar's), the next one without a year."""
    assert span(text, country=country)[:2] == (expected, expected)


@pytest.mark.parametrize(
    ("country", "text", "first", "last"),
    [
        ("GB", "black friday", date(2026, 11, 27), date(2026, 11, 27)),  # the day after US Thanksgiving
        ("GB", "mardi gras 2027", date(2027, 2, 9), date(2027, 2, 9)),  # Easter - 47
        ("US", "palm sunday 2027", date(2027, 3, 21), date(2027, 3, 21)),
        ("US", "orthodox easter 2027", date(2027, 5, 2), date(2027, 5, 2)),
        ("US", "boss's day 2027", date(2027, 10, 15), date(2027, 10, 15)),  # 16 Oct is a Saturday
        ("US", "lent 2027", date(2027, 2, 10), date(2027, 3, 26)),  # Ash Wednesday to Holy Saturday, weekdays
        ("US", "passover 2027", date(2027, 4, 22), date(2027, 4, 29)),  # eight days, as kept outside Israel
        (
            "US",
            "hanukkah",
            date(2026, 12, 7),
            date(2026, 12, 11),
        ),  # 5-12 Dec, the weekends at either end trimmed
    ],
)
def test_holidays_no_calendar_names_are_computed_and_festivals_are_spans(
    country: str, text: str, first: date, last: date
) -> None:
    """Easter's movable days, fixed days and Thanksgiving's followers by rule; festivals book all their days."""
    assert span(text, country=country)[:2] == (first, last)


def test_a_festival_on_a_weekend_is_refused_by_name() -> None:
    """Rosh Hashanah 2027 is a Saturday and Sunday: nothing to book, and the answer says so."""
    with pytest.raises(ParseError, match=r"rosh hashanah 2027.*weekend"):
        parse_request("rosh hashanah 2027", today=TODAY, country="US")


def test_a_holiday_of_another_country_is_not_guessed() -> None:
    """`koningsdag` for a US company is not a date the parser invents."""
    with pytest.raises(ParseError):
        parse_request("koningsdag", today=TODAY, country="US")


def test_a_weekday_is_never_a_holiday_of_that_name() -> None:
    """`saturday` is the next Saturday, not a feast called Holy Saturday."""
    assert span("saturday")[:2] == (date(2026, 11, 28), date(2026, 11, 28))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("tue from 2:00 to 2:30 pm", 14 * 60, 14 * 60 + 30),
        ("tomorrow from 7:00 to 8:00pm", 19 * 60, 20 * 60),
        ("dec 12th at 4 - 6:30 pm", 16 * 60, 18 * 60 + 30),
        ("tomorrow 1-2:30", 13 * 60, 14 * 60 + 30),
        ("tue 09:00-12:30", 9 * 60, 12 * 60 + 30),
    ],
)
def test_one_meridiem_serves_a_time_range_and_bare_hours_are_working_hours(
    text: str, start: int, end: int
) -> None:
    """am/pm written once reaches both times; hours without one are read within the working day."""
    assert span(text)[2:] == (start, end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dec 4, Fri", date(2026, 12, 4)),
        ("4 december friday", date(2026, 12, 4)),
        ("dec 3 thursday", date(2026, 12, 3)),
    ],
)
def test_a_weekday_after_its_date_is_that_date(text: str, expected: date) -> None:
    assert parse_request(text, today=TODAY).start_date == expected


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("jul 18, fri", "Sun 18 Jul 2027 is a Sunday, not a Friday. Try `/leave sun 18 jul`."),
        ("dec 5 thursday", "Sat 5 Dec 2026 is a Saturday, not a Thursday. Try `/leave sat 5 dec`."),
    ],
)
def test_a_weekday_after_a_date_it_is_not_is_asked_about(text: str, answer: str) -> None:
    """As for `fri, jul 18`: the answer names the date's own weekday and a request that works."""
    with pytest.raises(ParseError) as refused:
        parse_request(text, today=TODAY)
    assert str(refused.value) == answer


@pytest.mark.parametrize(("text", "expected"), [("tomorrows", date(2026, 11, 24)), ("todays", TODAY)])
def test_a_relative_day_with_a_lost_apostrophe_is_still_that_day(text: str, expected: date) -> None:
    assert parse_request(text, today=TODAY).start_date == expected
