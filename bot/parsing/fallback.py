"""dateparser, pinned: the one place it is used — a date phrase in words the grammar has no rule for.

The grammar reads structure and the everyday forms itself (it must: dateparser reads `the 3rd` as
23 March next year and `a week from today` as a week ago). What reaches this module is a leftover
phrase such as `the day after tomorrow` or `in 2 weeks`. dateparser is pinned to English with fixed
settings and never asked to detect the language: measured, detection costs ~1.8 s on the first call
and ~37 ms warm; pinned, ~0.15 s and well under 1 ms. It is imported on first use, so a process that
never needs it does not pay for it, and `warm_up()` pays that cost at the start of `serve`/`socket`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

LANGUAGES = ["en"]
MAX_PHRASE = 40  # a date in words is short; longer text is a sentence, not a date
ACCEPTED_PERIODS = {"day", "week"}  # "next month" or "2027" name no single day


def read(phrase: str, *, today: date, day_first: bool) -> date | None:
    """The day ``phrase`` names relative to ``today``, or None when dateparser can't say which day."""
    if len(phrase) > MAX_PHRASE or not phrase.isascii() or not any(c.isalpha() for c in phrase):
        return None
    try:
        data = _parser(today, day_first).get_date_data(phrase)
    except Exception:  # untrusted text into a third-party parser: any failure inside it means "not a date"
        return None
    found = data.date_obj
    if found is None or data.period not in ACCEPTED_PERIODS or found.time() != time():
        return None
    day: date = found.date()
    return day


def warm_up() -> None:
    """Import dateparser and load its English data now rather than on a user's first request."""
    read("the day after tomorrow", today=date(2026, 1, 1), day_first=True)


@functools.lru_cache(maxsize=8)
def _parser(today: date, day_first: bool) -> DateDataParser:
    from dateparser.date import DateDataParser

    settings = {
        "RELATIVE_BASE": datetime.combine(today, time()),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY" if day_first else "MDY",
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    return DateDataParser(languages=LANGUAGES, settings=settings, try_previous_locales=False)
