"""Named holidays (`christmas`, `thanksgiving 2014`, `diwali`), from the `holidays` package.

A name is looked up in the company's country first (every category the package has for it: public,
unofficial, optional…), then in the religious and cultural calendars people take leave for, which the
package keeps under the countries that observe them: the Christian feasts (Vatican City), Hindu, Sikh,
Jain and Parsi days (India), Jewish
days (Israel), Islamic days (Egypt) and the Chinese New Year (China). A name written exactly (`Diwali`) wins
over one that only matches without its bracket (`Diwali (South India)`).
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

CALENDARS = ("VA", "EG", "IL", "CN", "IN")  # Islamic days before India's, which lists Eid a day later
# Words people write for the package's names: `xmas`, `st paddy's`, `mlk`, `easter` (Sunday).
ALIASES = {
    "xmas": "christmas",
    "st": "saint",
    "paddy": "patrick",
    "paddys": "patrick",
    "patricks": "patrick",
    "mlk": "martin luther king",
    "kings": "king",
    "years": "year",
    "passover": "pesach",
    "chanukah": "hanukkah",
    "hanukah": "hanukkah",
    "hannukkah": "hanukkah",
    "deepavali": "diwali",
    "mon": "monday",
}
DROPPED = {"day", "the", "of", "jr", "s", "observed", "estimated", "sunday", "solemnity"}
WORD = re.compile(r"[a-z]+")
MAX_WORDS = 6


@functools.lru_cache(maxsize=4096)
def key(text: str) -> str:
    """The comparable form of a holiday's name: `St. Patrick's Day` and `saint patricks day` → `saint patrick`."""
    words = WORD.findall(text.lower().replace("'s", "").replace("’s", "").replace("'", "").replace("’", ""))
    spelled = " ".join(ALIASES.get(word, word) for word in words).split()
    kept = [word for word in spelled if word not in DROPPED]
    return " ".join(kept) or " ".join(spelled)


def known(name_key: str, country: str | None) -> bool:
    """True when some calendar the parser reads has a holiday of this name."""
    return any(name_key in _names(source) for source in _sources(country))


@functools.cache
def first_words(country: str | None) -> frozenset[str]:
    """The first word of every name the parser knows (a fast test before trying a name)."""
    return frozenset(k.split()[0] for source in _sources(country) for k in _names(source) if k)


def days_of(name_key: str, year: int, country: str | None) -> list[date]:
    """The days of holiday ``name_key`` in ``year``, from the first calendar that has it."""
    for source in _sources(country):
        if name_key in _names(source):
            table = _year(source, year)
            exact = sorted(day for day, (names, _) in table.items() if name_key in names)
            return exact or sorted(day for day, (_, loose) in table.items() if name_key in loose)
    return []


def _sources(country: str | None) -> tuple[str, ...]:
    return ((country,) if country else ()) + tuple(c for c in CALENDARS if c != country)


@functools.cache
def _names(source: str) -> frozenset[str]:
    today = date.today().year
    years = range(today - 1, today + 2)
    return frozenset(
        n for year in years for names in _year(source, year).values() for n in names[0] | names[1]
    )


@functools.lru_cache(maxsize=256)
def _year(source: str, year: int) -> dict[date, tuple[frozenset[str], frozenset[str]]]:
    """Day → (its names, its names without what is in brackets) in ``source`` in ``year``."""
    import holidays  # a large package: imported on the first named holiday

    code, _, region = source.partition("-")
    calendar: Any = holidays.country_holidays(code, subdiv=region or None)
    # English names, and the country's own (`Koningsdag` beside `King's Day`)
    languages = {"en_US", calendar.default_language} & set(calendar.supported_languages or ()) or {None}
    table: dict[date, tuple[set[str], set[str]]] = {}
    for language in sorted(languages, key=str):
        found = holidays.country_holidays(
            code,
            subdiv=region or None,
            years=year,
            categories=calendar.supported_categories,
            language=language,
        )
        _add_names(table, found)
    return {day: (frozenset(exact), frozenset(loose)) for day, (exact, loose) in table.items()}


def _add_names(table: dict[date, tuple[set[str], set[str]]], found: Any) -> None:
    for day, names in found.items():
        for name in re.split(r"; | / | or ", names):
            if name.lower().startswith(("day off", "day before", "substitute")):
                continue  # working-day swaps, not holidays anyone names
            exact, loose = table.setdefault(day, (set(), set()))
            exact.add(key(name))
            loose.add(key(re.sub(r"\s*\(.*?\)", "", name)))
