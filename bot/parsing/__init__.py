"""Text → leave request draft: the one parser behind `/leave <text>`, the modal's prefill and the CLI.

It runs before Slack's ack, so it is pure (no I/O), fast, and raises nothing but ``ParseError``.

    clean text ─ tokens.py ─► tokens ─ grammar.py ─► items ─ reader.py ─► span ─► Draft
                                                       │
                                   a date in words the grammar has no rule for ─► fallback.py (dateparser, pinned)

``words.py`` holds the vocabulary, ``specs.py`` how a date is pinned to the calendar (a start from
today, an end from its start), ``calendar.py`` weeks and working days (the hook for public holidays).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, tzinfo

from pydantic import ValidationError

from bot.parsing import fallback
from bot.parsing import words as w
from bot.parsing.errors import EXAMPLES, ParseError
from bot.parsing.grammar import Grammar, Kind
from bot.parsing.reader import read_span, settle
from bot.parsing.tokens import clean, split_quoted, tokenize
from providers.models import Draft, LeaveType

__all__ = [
    "EXAMPLES",
    "ParseError",
    "day_first",
    "order_matters",
    "parse_request",
    "reads_day_first",
    "today_in",
    "warm_up",
]

MAX_TEXT = 1000  # characters; a request plus a 500-character reason fits, and parsing time stays bounded
MONTH_FIRST_REGIONS = {"us"}
MODEL_ADVICE = {
    "end date is before": "`/leave dec 24-26`",
    "at most": "`/leave dec 7 to dec 18`",
    "hourly": "`/leave tue 9am-12pm`",
    "afternoon start": "`/leave mon pm to wed am`",
}


def parse_request(
    text: str,
    *,
    today: date,
    leave_types: Sequence[LeaveType] = (),
    locale: str = "en-GB",
    holidays: Collection[date] = (),
    country: str | None = None,
    dates_day_first: bool | None = None,
) -> Draft:
    """Understand ``text`` as a leave request made on ``today`` (the requester's date) in ``locale``.

    ``locale`` decides numeric dates (en-GB: 24/12 is day/month; en-US: 12/24 is month/day) unless
    ``dates_day_first`` gives the order itself (a Slack user's, from ``reads_day_first``);
    ``leave_types`` are the provider's, matched by name or by meaning (`ill` → "Sick Leave");
    ``holidays`` are days that do not count as working days in lengths such as `3 days from monday`;
    ``country`` (`US`, `GB-SCT`) decides which `thanksgiving` or `memorial day` a named holiday is.
    """
    if (
        dates_day_first is None and len(text) <= MAX_TEXT
    ):  # a text too long is refused as that, whatever its locale
        dates_day_first = day_first(locale)
    found, _ = _read(
        text,
        today=today,
        leave_types=leave_types,
        holidays=holidays,
        country=country,
        order=bool(dates_day_first),
    )
    if isinstance(found, ParseError):
        raise found
    return found


def _read(
    text: str,
    *,
    today: date,
    leave_types: Sequence[LeaveType] = (),
    holidays: Collection[date] = (),
    country: str | None = None,
    order: bool,
) -> tuple[Draft | ParseError, bool]:
    """``text``'s draft (or why there is none), and whether the order of numeric dates was read for it."""
    if len(text) > MAX_TEXT:
        return ParseError(
            f"That is too long for one request (at most {MAX_TEXT} characters). Try {EXAMPLES}."
        ), False
    body, quoted = split_quoted(clean(text))
    grammar = Grammar(
        tokenize(body), body, order, _type_words(tuple(t.name for t in leave_types)), today, country
    )
    try:
        items, reason = settle(grammar, grammar.items(), today=today)
        leave_type = next((i.name for i in items if isinstance(i, Kind) and i.name), None)
        span = read_span(grammar, items, today=today, holidays=frozenset(holidays))
    except ParseError as exc:
        return exc, grammar.order_read
    reason = " – ".join(r for r in (quoted, reason) if r)
    try:
        draft = Draft(
            start_date=span.start_date,
            end_date=span.end_date,
            start=span.start,
            end=span.end,
            leave_type=leave_type,
            reason=reason,
        )
    except ValidationError as exc:
        return _model_error(exc, span.start_date, span.end_date), grammar.order_read
    return draft, grammar.order_read


def day_first(locale: str) -> bool:
    """True when ``locale`` writes numeric dates day first (en-GB); False for month first (en-US)."""
    language, _, region = locale.replace("_", "-").lower().partition("-")
    if language != "en":
        raise ParseError(
            f"I read requests in English, with en-GB or en-US dates; “{locale}” isn't supported yet."
        )
    return region.split("-")[0] not in MONTH_FIRST_REGIONS


def reads_day_first(locale: str | None) -> bool:
    """The order of numeric dates for a Slack locale: month first for en-US, day first for every other
    (de-DE, fr-FR, en-GB…: the words of a request stay English) and for an unknown one."""
    return (locale or "").replace("_", "-").lower() != "en-us"


def order_matters(text: str, *, today: date, country: str | None = None) -> bool:
    """True when ``text`` reads differently day first and month first (`7/4`), so the locale decides it."""
    first, order_read = _read(text, today=today, country=country, order=True)
    if not order_read:  # no numeric date, nothing for dateparser: the other order reads it the same
        return False
    second, _ = _read(text, today=today, country=country, order=False)
    return _shown(first) != _shown(second)


def _shown(found: Draft | ParseError) -> Draft | str:
    return str(found) if isinstance(found, ParseError) else found


def today_in(zone: tzinfo, now: datetime | None = None) -> date:
    """Today's date for someone in ``zone`` (``now`` defaults to the current instant)."""
    return (now or datetime.now(UTC)).astimezone(zone).date()


def warm_up(country: str | None = None) -> None:
    """Compile the grammar's patterns, load the holiday calendars and dateparser's English data, so no user waits for them."""
    for text in ("fri pm for the dentist", "dec 24 - jan 2", "tue 9am-12pm", "3 days from monday"):
        parse_request(text, today=date(2026, 1, 1))
    parse_request("christmas", today=date.today(), country=country)  # loads the holiday calendars
    fallback.warm_up()


@functools.lru_cache(maxsize=32)
def _type_words(names: tuple[str, ...]) -> dict[str, str | None]:
    """Word → leave type name: each type's own words and initials, then words of the same meaning."""
    known = _grammar_words()
    table: dict[str, str | None] = {}
    keys = {name: _name_words(name) - known for name in names}
    for name, words in keys.items():
        for word in sorted(words):
            table.setdefault(word, name)
    for group in w.LEAVE_TYPE_GROUPS:
        match = next((name for name, words in keys.items() if words & group), None)
        for word in group:
            table.setdefault(word, match)
    return table


def _name_words(name: str) -> set[str]:
    parts = "".join(c if c.isalnum() or c == "/" else " " for c in name.lower()).split()
    words = {p for p in parts if p not in w.GENERIC_TYPE_WORDS}
    if len(parts) >= 3:
        words.add("".join(p[0] for p in parts))  # "Time Off In Lieu" -> toil, "Paid Time Off" -> pto
    return words


@functools.cache
def _grammar_words() -> frozenset[str]:
    """Words the grammar already uses, which a leave type's name must not take over."""
    vocabularies = (
        w.WEEKDAYS,
        w.MONTHS,
        w.RELATIVE_DAYS,
        w.NUMBER_WORDS,
        w.UNITS,
        w.UNIT_QUALIFIERS,
        w.MORNING,
        w.AFTERNOON,
        w.LUNCH,
        w.HALF,
        w.RANGE_WORDS,
        w.FROM_WORDS,
        w.REASON_WORDS,
        w.THIS,
        w.NEXT,
        w.FILLER,
    )
    extra = {"for", "and", "between", "last", "week", "rest", "after", "before", "in", "w/c", "wc", "wb"}
    return frozenset().union(*vocabularies, extra)


def _model_error(exc: ValidationError, start: date, end: date) -> ParseError:
    error = exc.errors()[0]
    if error["loc"] == ("reason",):
        return ParseError(
            "The reason is too long (500 characters at most). Try `/leave fri for the dentist`."
        )
    problem = str(error["msg"]).removeprefix("Value error, ")
    advice = next((a for key, a in MODEL_ADVICE.items() if key in problem), EXAMPLES)
    year = start.year != end.year
    shown = f"{_words(start, year=year)} – {_words(end, year=year)}" if start != end else ""
    return ParseError(f"That doesn't work: {problem}{f' ({shown})' if shown else ''}. Try {advice}.")


def _words(day: date, *, year: bool) -> str:
    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if year else "")
