"""Named holidays (`christmas`, `thanksgiving 2014`, `diwali`), from the `holidays` package.

A name is looked up in the company's country first (every category the package has for it: public,
unofficial, optional…), then in the religious and cultural calendars people take leave for, which the
package keeps under the countries that observe them: the Christian feasts (Vatican City), Hindu, Sikh,
Jain and Parsi days (India), Jewish
days (Israel), Islamic days (Egypt) and the Chinese New Year (China). A name written exactly (`Diwali`) wins
over one that only matches without its bracket (`Diwali (South India)`).

Between the two come the days the package names for no country, or not for this one, computed by rule
(``RULES``): Western and Orthodox Easter's movable days (`mardi gras`, `palm sunday`, `orthodox easter`,
`lent`), days fixed in the year (`halloween`, `valentine's`, `boss's day`, `the ides of march`) and those
that follow US Thanksgiving (`black friday`, `cyber monday`). Festivals that last several days (`lent`, `passover`,
`hanukkah`, `rosh hashanah`) are spans (``SPAN_DAYS``), the Jewish ones as kept outside Israel, from the
first daytime (the evening before belongs to the day: ask for it by its date).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bot.parsing import words as w

RULES = "rules"  # the computed days below, read after the company's country and before CALENDARS
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
    "thu": "thursday",
    "hashana": "hashanah",
    "hashanna": "hashanah",
    "succos": "sukkot",
    "sukkos": "sukkot",
    "succot": "sukkot",
    "ingathering": "sukkot",
    "bomer": "baomer",
    "whitsun": "whit",
    "white": "whit",
    "pentecost": "whit",
    "bosses": "boss",
    "valentines": "valentine",
    "great": "good",  # `orthodox great friday`
    "branch": "palm",
    "baisakhi": "vaisakhi",
    "vasakhi": "vaisakhi",
    "vaishakhi": "vaisakhi",
    "makara": "makar",
    "sankranthi": "sankranti",
    "maghi": "makar sankranti",
    "dhulandi": "holi",
    "phagwah": "holi",
    "id": "eid",  # `id ul-adha`, `eid ul fitr`
    "ul": "al",
    "jayanti": "birthday",  # a jayanti is a birth anniversary: `rabindra jayanti`, `guru ravidas jayanti`
    "ravidas": "ravi das",
    "ravidass": "ravi das",
    "rama": "ram",
    "ratha": "rath",
    "rakhi": "raksha bandhan",
    "yugadi": "ugadi",
    "samvatsaradi": "ugadi",
    "sukhladi": "sukladi",
    **{short: w.MONTH_NAMES[month].lower() for short, month in w.MONTHS.items()},  # `ides of mar`
    "govind": "gobind",
    "dooj": "duj",
    "labour": "labor",  # the US calendar's spelling; a country that writes `Labour Day` is keyed the same
    "veteran": "veterans",
    "fools": "fool",
}
# Other names of a whole holiday, in key() form (after ALIASES and DROPPED): `bakrid`, `feast of the sacrifice`.
PHRASES = {
    **dict.fromkeys(
        (
            "bakrid",
            "bakr eid",
            "bakra eid",
            "eid adha",
            "sacrifice",
            "kurban bayram",
            "kurban bayrami",
            "qurban bayram",
            "kurban",
        ),
        "eid al adha",
    ),
    **dict.fromkeys(
        ("eid fitr", "ramazan bayram", "ramazan bayrami", "seker bayram", "seker bayrami"), "eid al fitr"
    ),
    **dict.fromkeys(
        (
            "mawlid",
            "mawlid al nabawi",
            "mawlid al nabi",
            "mawlid an nabi",
            "mawlid nabi",
            "milad al nabi",
            "milad un nabi",
            "mawlid al sharif",
        ),
        "prophet birthday",
    ),
    **dict.fromkeys(
        ("amun jadid", "hijri new year", "arabic new year", "al hijra", "hijra"), "islamic new year"
    ),
    **dict.fromkeys(
        ("covenant thursday", "good and holy thursday", "holy and good thursday"), "maundy thursday"
    ),
    **dict.fromkeys(("holy friday", "good and holy friday", "holy and good friday"), "good friday"),
    **dict.fromkeys(("lunar new year", "chinese lunar new year"), "chinese new year"),
    **dict.fromkeys(
        ("rabindra birthday", "rabindranath birthday", "tagore birthday"), "guru rabindranath birthday"
    ),
    "ravi das birthday": "guru ravi das birthday",
    "juneteenth": "juneteenth national independence",
    "saint valentine": "valentine",
    **dict.fromkeys(
        ("valmiki birthday", "pargat diwas", "valmiki pargat diwas"), "maharishi valmiki birthday"
    ),
    **dict.fromkeys(
        (
            "mahavir birthday",
            "mahaveer birthday",
            "mahavir janma kalyanak",
            "mahaveer janma kalyanak",
            "mahavira janma kalyanak",
        ),
        "mahavira birthday",
    ),
    **dict.fromkeys(("karva chauth", "karwa chauth", "karva chouth", "karwa chouth"), "karaka chaturthi"),
    **dict.fromkeys(("chhath", "chhath puja", "dala puja", "surya shashti"), "pratihar shashthi"),
    **dict.fromkeys(("chhoti holi", "choti holi", "kamudu pyre"), "holika dahan"),
    **dict.fromkeys(("jamshedi navroz", "parsi navroz", "pateti"), "parsi new year"),
}
# Words a name may start with that key() drops: `feast of the sacrifice`.
LEADING = frozenset({"feast"})
DROPPED = {"day", "the", "of", "jr", "s", "observed", "estimated", "sunday", "solemnity", "feast"}
# Festivals of several days: how many days from the first one the calendar names.
SPAN_DAYS = {"rosh hashanah": 2, "pesach": 8, "shavuot": 2, "sukkot": 8, "hanukkah": 8}
WORD = re.compile(r"[a-z]+")
MAX_WORDS = 6


@functools.lru_cache(maxsize=4096)
def key(text: str) -> str:
    """The comparable form of a holiday's name: `St. Patrick's Day` and `saint patricks day` → `saint patrick`."""
    words = WORD.findall(text.lower().replace("'s", "").replace("’s", "").replace("'", "").replace("’", ""))
    spelled = " ".join(ALIASES.get(word, word) for word in words).split()
    kept = [word for word in spelled if word not in DROPPED]
    found = " ".join(kept) or " ".join(spelled)
    return PHRASES.get(found, found)


def known(name_key: str, country: str | None) -> bool:
    """True when some calendar the parser reads has a holiday of this name."""
    return any(name_key in _names(source) for source in _sources(country))


@functools.cache
def first_words(country: str | None) -> frozenset[str]:
    """The first word of every name the parser knows (a fast test before trying a name)."""
    names = (k for source in _sources(country) for k in _names(source))
    return frozenset(k.split()[0] for k in (*names, *PHRASES) if k) | LEADING


def days_of(name_key: str, year: int, country: str | None) -> list[date]:
    """The days of holiday ``name_key`` in ``year`` (several for a festival), from the first calendar that has it."""
    for source in _sources(country):
        if name_key in _names(source):
            table = _year(source, year)
            exact = sorted(day for day, (names, _) in table.items() if name_key in names)
            days = exact or sorted(day for day, (_, loose) in table.items() if name_key in loose)
            if days and name_key in SPAN_DAYS:
                return [days[0] + timedelta(days=n) for n in range(SPAN_DAYS[name_key])]
            return days[:1] if name_key not in SPANNED else days
    return []


def _sources(country: str | None) -> tuple[str, ...]:
    return ((country,) if country else ()) + (RULES,) + tuple(c for c in CALENDARS if c != country)


def _easter(offset: int, orthodox: bool = False) -> Callable[[int], date]:
    def rule(year: int) -> date:
        from dateutil.easter import EASTER_ORTHODOX, EASTER_WESTERN, easter

        return easter(year, EASTER_ORTHODOX if orthodox else EASTER_WESTERN) + timedelta(days=offset)

    return rule


def _fixed(month: int, day: int, weekday_nearest: bool = False) -> Callable[[int], date]:
    def rule(year: int) -> date:
        found = date(year, month, day)
        if weekday_nearest and found.weekday() >= 5:  # Saturday -> Friday, Sunday -> Monday
            found += timedelta(days=-1 if found.weekday() == 5 else 1)
        return found

    return rule


def _after_thanksgiving(days: int) -> Callable[[int], date]:
    def rule(year: int) -> date:
        first = date(year, 11, 1)
        thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)  # the fourth Thursday of November
        return thursday + timedelta(days=days)

    return rule


# Name key → (first day, last day) rule; the names are in key() form (`palm sunday` → `palm`).
_DAY_RULES: dict[str, tuple[Callable[[int], date], ...]] = {
    "mardi gras": (_easter(-47),),
    "shrove tuesday": (_easter(-47),),
    "pancake": (_easter(-47),),
    "ash wednesday": (_easter(-46),),
    "palm": (_easter(-7),),
    "maundy thursday": (_easter(-3),),
    "holy thursday": (_easter(-3),),
    "thursday mysteries": (_easter(-3),),  # its name in the Orthodox and Eastern Catholic churches
    "good friday": (_easter(-2),),
    "holy saturday": (_easter(-1),),
    "easter": (_easter(0),),
    "easter monday": (_easter(1),),
    "ascension": (_easter(39),),
    "whit": (_easter(49),),
    "whit monday": (_easter(50),),
    "monday holy spirit": (
        _easter(50),
    ),  # Whit Monday's name in much of Europe (Pfingstmontag, Lundi de Pentecôte…)
    "trinity": (_easter(56),),
    "corpus christi": (_easter(60),),
    "lent": (_easter(-46), _easter(-1)),  # Ash Wednesday to Holy Saturday
    "orthodox easter": (_easter(0, orthodox=True),),
    "orthodox easter monday": (_easter(1, orthodox=True),),
    "orthodox good friday": (_easter(-2, orthodox=True),),
    "orthodox shrove monday": (_easter(-48, orthodox=True),),
    "clean monday": (_easter(-48, orthodox=True),),
    "lazarus saturday": (_easter(-8, orthodox=True),),
    "good fast": (
        _easter(-48, orthodox=True),
        _easter(-9, orthodox=True),
    ),  # `great fast`: to Lazarus Saturday
    "new year": (_fixed(1, 1),),
    "valentine": (_fixed(2, 14),),
    "april fool": (_fixed(4, 1),),
    "saint patrick": (_fixed(3, 17),),
    "halloween": (_fixed(10, 31),),
    "boss": (_fixed(10, 16, weekday_nearest=True),),
    "world vegan": (_fixed(11, 1),),
    "christmas eve": (_fixed(12, 24),),
    "christmas": (_fixed(12, 25),),
    "boxing": (_fixed(12, 26),),
    "new year eve": (_fixed(12, 31),),
    # the ides: the 15th of March, May, July and October, the 13th of the other months (`the ides of march`)
    **{
        f"ides {name}": (_fixed(month, 15 if month in (3, 5, 7, 10) else 13),)
        for month, name in enumerate((n.lower() for n in w.MONTH_NAMES[1:]), start=1)
    },
    "black friday": (_after_thanksgiving(1),),
    "cyber monday": (_after_thanksgiving(4),),
}
SPANNED = frozenset(name for name, rules in _DAY_RULES.items() if len(rules) == 2) | frozenset(SPAN_DAYS)


@functools.cache
def _names(source: str) -> frozenset[str]:
    if source == RULES:
        return frozenset(_DAY_RULES)
    today = date.today().year
    years = range(today - 1, today + 2)
    return frozenset(
        n for year in years for names in _year(source, year).values() for n in names[0] | names[1]
    )


@functools.lru_cache(maxsize=256)
def _year(source: str, year: int) -> dict[date, tuple[frozenset[str], frozenset[str]]]:
    """Day → (its names, its names without what is in brackets) in ``source`` in ``year``."""
    if source == RULES:
        ruled: dict[date, set[str]] = {}
        for name, rules in _DAY_RULES.items():
            first, last = rules[0](year), rules[-1](year)
            for n in range((last - first).days + 1):
                ruled.setdefault(first + timedelta(days=n), set()).add(name)
        return {day: (frozenset(names), frozenset(names)) for day, names in ruled.items()}
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


def elsewhere(text: str, country: str | None, today: date) -> str | None:
    """The answer for a holiday that only other countries keep (`koningsdag` for a US company), named in ``text``:
    the words the grammar did not understand."""
    words = text.split()
    for first in range(len(words)):
        for last in range(min(len(words), first + MAX_WORDS), first, -1):
            name_key = key(" ".join(words[first:last]))
            found = [place for place in _elsewhere().get(name_key, ()) if place[0] != country]
            if not found or known(name_key, country):
                continue
            code, name = found[0][0], found[0][2]
            years = [int(word) for word in words if word.isdigit() and len(word) == 4]  # `koningsdag 2018`
            days = [
                day
                for year in years[:1] or (today.year, today.year + 1)
                for day in days_of(name_key, year, code)
                if years or day >= today
            ]
            places = ", ".join(country_name for _, country_name, _ in found[:3]) + (
                " and more" if found[3:] else ""
            )
            ours = f"the {country} calendar" if country else "the calendars I read"
            written = (
                f"{days[0].day} {days[0]:%b}" + (f" {days[0].year}" if years else "") if days else "dec 24"
            )
            asked = f"`/leave {written}`" if days else "e.g. `/leave dec 24`"
            return f"{name} is a holiday in {places}, not in {ours}. Ask for its date instead: {asked}."
    return None


@functools.cache
def _elsewhere() -> dict[str, list[tuple[str, str, str]]]:
    """Name key → (country code, country name, holiday name) of every country's public holidays.

    Read on the first refusal only (about half a second): a name no calendar the parser reads has is answered
    by name, with where it is kept and its date there.
    """
    import holidays

    names: dict[str, list[tuple[str, str, str]]] = {}
    for code in sorted(holidays.list_supported_countries()):
        calendar: Any = holidays.country_holidays(code)
        country_name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(calendar).__mro__[1].__name__)
        languages = {"en_US", calendar.default_language} & set(calendar.supported_languages or ()) or {None}
        for language in sorted(languages, key=str):
            found = holidays.country_holidays(code, years=date.today().year, language=language)
            for holiday in sorted(set(found.values())):
                for part in re.split(r"; | / | or ", holiday):
                    name = re.sub(r"\s*\(.*?\)", "", part)
                    if not WORD.search(name.lower()):
                        continue  # a name in a script the parser does not read
                    places = names.setdefault(key(name), [])
                    if country_name not in (place[1] for place in places):
                        places.append((code, country_name, name))
    return names
