"""Tokens → items: the small grammar of `/leave` requests.

Each rule looks at the tokens from one position and, if it matches, gives one item and the position
after it. Rules are tried in order — hours, length, date, part of day — then single words (links such
as `to`, leave types, reason markers, filler). A word no rule knows becomes ``Unknown``: the reader
then decides whether it starts a reason (`fri pm dentist`) or is a date only dateparser knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.parsing import calendar, named_days
from bot.parsing import words as w
from bot.parsing.errors import ParseError
from bot.parsing.specs import DayOfMonth, Fixed, MonthDay, Relative, Spec, Weekday, start_of
from bot.parsing.tokens import Token

MAX_LENGTH_DAYS = 365
WORKDAY_START = 8 * 60  # an hour written without am/pm before this is read in the afternoon
# Unions the rules test words against, made once rather than on every test.
THIS_NEXT = w.THIS | w.NEXT
THIS_NEXT_LAST = THIS_NEXT | {"last"}
ANY_WEEKDAYS = w.PLURAL_WEEKDAYS | w.WEEKDAYS
OFFSET_UNITS = w.OFFSET_DAYS | w.OFFSET_MONTHS
PARTS_OF_DAY = w.MORNING | w.AFTERNOON


@dataclass(frozen=True)
class Item:
    """Tokens ``first`` to ``last`` (exclusive) read as one thing."""

    first: int
    last: int


@dataclass(frozen=True)
class Day(Item):
    """One date; ``check`` is a weekday the date must fall on (`fri 27 nov`)."""

    spec: Spec
    check: int | None = None


@dataclass(frozen=True)
class Week(Item):
    """`this week` (0), `next week` (1), `the week after next` (2), or the week of ``anchor`` (`w/c 7 dec`).

    With ``until``, the days from ``anchor`` to ``until`` instead: a festival (`passover`, `lent`).
    """

    offset: int = 0
    anchor: Spec | None = None
    until: Spec | None = None


@dataclass(frozen=True)
class MonthOnly(Item):
    """A month with no day (`december`): not enough to book."""

    month: int = 0


@dataclass(frozen=True)
class Part(Item):
    """`am`/`morning` (AM), `pm`/`afternoon` (PM), `half day` (HALF), `lunchtime` (LUNCH: depends on the end)."""

    part: str = "AM"


@dataclass(frozen=True)
class Hours(Item):
    """`9am-12pm`: start and end as minutes of the day."""

    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Clock(Item):
    """A single time of day with no partner (`from 2pm`)."""

    minute: int = 0
    text: str = ""


@dataclass(frozen=True)
class Length(Item):
    """`3 days`, `2 weeks`: working half-days; ``start`` is where `the next 3 days` begin (else the text says)."""

    halves: int = 0
    text: str = ""
    start: Day | Week | None = None


@dataclass(frozen=True)
class Link(Item):
    """A range link: `to`, `until`, `-`, `and` after `between`."""

    word: str = "to"


@dataclass(frozen=True)
class And(Item):
    """`and` outside `between … and …`: fine for days next to each other (`today and tomorrow`), else refused."""


@dataclass(frozen=True)
class Kind(Item):
    """A leave-type word; ``name`` is the provider's matching type, or None when it offers none."""

    name: str | None = None


@dataclass(frozen=True)
class Reason(Item):
    """Free text after `for`, `because (of)`, `due to`."""

    text: str = ""


@dataclass(frozen=True)
class Unknown(Item):
    """A word no rule knows."""

    word: str = ""


DATE_LIKE = (Day, Week, Length, Hours)
Found = tuple[Item | list[Item], int] | None


@dataclass
class Grammar:
    """The rules over one text's tokens."""

    tokens: list[Token]
    text: str
    dates_day_first: bool  # read through ``day_first``, which notes that the reading depended on it
    types: Mapping[str, str | None]
    today: date
    country: str | None = None
    between: bool = False
    order_read: bool = False  # a numeric date or dateparser was read in the order of ``dates_day_first``

    def __post_init__(self) -> None:
        # Each token's word ("" for a number, a dash…): the rules ask for it about a hundred times a parse.
        self._words = [t.text if t.kind == "word" else "" for t in self.tokens]

    @property
    def day_first(self) -> bool:
        """The order of numeric dates; asking for it notes that this text's reading depends on it."""
        self.order_read = True
        return self.dates_day_first

    def items(self) -> list[Item]:
        """Every item of the text, in order."""
        found: list[Item] = []
        at = 0
        rules: list[Callable[[int], Found]] = [
            self._hours,
            self._offset,
            self._length,
            self._date,
            self._part,
        ]
        while at < len(self.tokens):
            for rule in rules:
                if (match := rule(at)) is not None:
                    break
            item, at = match if match is not None else self._word(at)
            if isinstance(item, list):
                found.extend(item)
            elif item is not None:
                found.append(item)
            if isinstance(item, Reason):
                break
        return found

    # -- looking at tokens ------------------------------------------------------------------

    def _word_at(self, at: int) -> str:
        return self._words[at] if 0 <= at < len(self._words) else ""

    def _kind_at(self, at: int) -> str:
        return self.tokens[at].kind if at < len(self.tokens) else ""

    def _is(self, at: int, vocabulary: Mapping[str, object] | set[str] | frozenset[str]) -> bool:
        return self._word_at(at) in vocabulary

    def _skip(self, at: int, *fillers: str) -> int:
        while self._word_at(at) in fillers:
            at += 1
        return at

    def _is_link(self, at: int) -> bool:
        if self._kind_at(at) == "dash":
            return True
        word = self._word_at(at)
        return word in w.RANGE_WORDS or (word == "and" and self.between)

    # -- hours: `9am-12pm`, `09:00–12:30`, `2pm to 5pm`, `between 9am and noon`, `2-5pm` ----------

    def _hours(self, at: int) -> Found:
        start = self._clock(at)
        if start is None:
            return None
        first, after, explicit = start
        if self._is_link(after) and (end := self._clock(after + 1)) is not None:
            second, last, explicit_end = end
            if explicit or explicit_end:
                begin, finish = _settle_hours(first, second, explicit, explicit_end)
                return Hours(at, last, start=begin, end=finish), last
        if not explicit or self.tokens[at].text in w.LUNCH:
            return None  # a lone `noon` is a part of the day (before or after lunch), not an hourly booking
        return Clock(at, after, minute=first.minute, text=_span_text(self, at, after)), after

    def _clock(self, at: int) -> tuple[_Time, int, bool] | None:
        """A time at ``at``: (time, next position, explicit?) — a bare hour counts only beside an explicit one."""
        token = self.tokens[at] if at < len(self.tokens) else None
        if token is None:
            return None
        if token.kind == "time":
            return _read_time(token.text), at + 1, True
        if token.kind == "int" and len(token.text) <= 2:
            hour = int(token.text)
            meridiem = self._word_at(at + 1)
            if meridiem in ("am", "pm") and 1 <= hour <= 12:
                return _Time(hour % 12 * 60 + (720 if meridiem == "pm" else 0), meridiem), at + 2, True
            if hour <= 23 and self._word_at(at + 1) not in w.MONTHS:
                return _Time(hour * 60, "", bare=True), at + 1, False
        if token.text in ("noon", "midday"):
            return _Time(720, "pm"), at + 1, True
        return None

    # -- lengths: `3 days`, `a week`, `2 working days`, `a couple of days`, `1.5 days` ----------

    def _length(self, at: int) -> Found:
        if at >= len(self.tokens):
            return None
        count = self._count(at)
        if count is None:
            return None
        value, after = count
        after = self._skip(after, *w.UNIT_QUALIFIERS)
        unit = w.UNITS.get(self._word_at(after))
        if unit is None:
            return None
        days = value * unit
        text = _span_text(self, at, after + 1)
        if days > MAX_LENGTH_DAYS:
            raise ParseError(
                f"“{text}” is too long: a request can cover at most {MAX_LENGTH_DAYS} days. Try `/leave 2 weeks from dec 7`."
            )
        if days <= 0:
            raise ParseError(f"“{text}” is no time at all. Try `/leave 3 days from monday`.")
        return Length(at, after + 1, halves=round(days * 2), text=text), after + 1

    def _count(self, at: int) -> tuple[float, int] | None:
        token = self.tokens[at]
        if token.kind in ("int", "number") and len(token.text) <= 5:
            return float(token.text), at + 1
        if token.text == "couple" or (token.text == "a" and self._word_at(at + 1) == "couple"):
            return 2.0, self._skip(at + (2 if token.text == "a" else 1), "of")
        if token.text in w.NUMBER_WORDS and token.kind == "word":
            return float(w.NUMBER_WORDS[token.text]), at + 1
        if token.text == "fortnight":
            return 1.0, at  # the unit itself
        return None

    # -- dates ---------------------------------------------------------------------------------

    def _date(self, at: int) -> Found:
        if at >= len(self.tokens):
            return None
        found = (
            self._holiday(at) or self._nth(at) or self._week(at) or self._weekday(at) or self._relative(at)
        )
        if found is not None:
            return found
        found = self._numeric(at) or self._month_day(at)
        return self._weekday_behind(found) if found is not None else None

    def _weekday_behind(self, found: tuple[Item, int]) -> tuple[Item, int]:
        """A weekday written after its date (`jul 18, fri`, `24 dec thursday`): checked, as `fri, jul 18` is."""
        item, end = found
        at = end + 1 if self._kind_at(end) == "other" and self.tokens[end].text == "," else end
        weekday = w.WEEKDAYS.get(self._word_at(at))
        if not isinstance(item, Day) or item.check is not None or weekday is None:
            return found
        following = self.tokens[at + 1] if at + 1 < len(self.tokens) else None
        if following is not None and (
            following.kind != "word" or following.text in w.NEXT | w.THIS | {"week", "after", "of"}
        ):
            return found  # `dec 24 fri 2pm`, `dec 24 fri next week`: the weekday is a day of its own
        return replace(item, last=at + 1, check=weekday), at + 1

    def _relative(self, at: int) -> Found:
        days = w.RELATIVE_DAYS.get(self._word_at(at))
        return (Day(at, at + 1, spec=Relative(days)), at + 1) if days is not None else None

    def _numeric(self, at: int) -> Found:
        token = self.tokens[at]
        if token.kind == "iso":
            year, month, day = (int(p) for p in token.text.split("-"))
            return Day(at, at + 1, spec=_fixed(year, month, day, token.text)), at + 1
        if token.kind == "numdate":
            spec = _numeric_date(token.text, day_first=self.day_first)
            year, after = self._year_after(at + 1)
            if isinstance(spec, MonthDay) and year is not None:
                return Day(at, after, spec=_fixed(year, spec.month, spec.day, token.text)), after
            return Day(at, at + 1, spec=spec), at + 1
        return None

    def _month_day(self, at: int) -> Found:
        """`dec 24`, `december 24th 2026`, `24 dec`, `24th of december`, `the 3rd`, `3rd`, a bare `24`."""
        month = w.MONTHS.get(self._word_at(at))
        if month is not None:
            day_at = self._skip(at + 2 if self._text_at(at + 1) == "." else at + 1, "the")  # `Oct. 2`
            if self._kind_at(day_at) in ("int", "ordinal") and len(self.tokens[day_at].text) <= 2:
                return self._with_year(at, day_at + 1, month, int(self.tokens[day_at].text))
            if self._word_at(at) in w.SHY_MONTHS:
                return None
            return MonthOnly(at, at + 1, month=month), at + 1
        start = self._skip(at, "the")
        token = self.tokens[start] if start < len(self.tokens) else None
        if token is None or token.kind not in ("int", "ordinal") or len(token.text) > 2:
            return None
        month_at = self._skip(start + 1, "of")
        month = w.MONTHS.get(self._word_at(month_at))
        if month is not None:
            return self._with_year(at, month_at + 1, month, int(token.text))
        bare = (
            token.kind == "int" and start == at
        )  # `the 24` is a day of the month, a lone `24` may be an hour
        return Day(at, start + 1, spec=DayOfMonth(int(token.text), bare=bare)), start + 1

    def _with_year(self, at: int, after: int, month: int, day: int) -> Found:
        year, year_after = self._year_after(after)
        if year is not None:
            return Day(at, year_after, spec=_fixed(year, month, day, None)), year_after
        return Day(at, after, spec=MonthDay(month, day)), after

    def _year_after(self, at: int) -> tuple[int | None, int]:
        """A year written after a date: `, 2020`, `2020`, `in 2020`, `of 2020`."""
        year_at = at + 1 if self._text_at(at) in (",", "in", "of") else at
        year = self._year_at(year_at)
        return (year, year_at + 1) if year is not None else (None, at)

    def _text_at(self, at: int) -> str:
        return self.tokens[at].text if at < len(self.tokens) else ""

    def _weekday(self, at: int) -> Found:
        """`fri`, `this fri`, `next fri`, `last fri`, `fri next week`, `fri week`, `fri 27 nov`."""
        mode = "plain"
        start = at
        if self._is(at, THIS_NEXT_LAST):
            word = self._word_at(at)
            mode = "this" if word in w.THIS else "next" if word in w.NEXT else "last"
            at += 1
        weekday = w.WEEKDAYS.get(self._word_at(at))
        if weekday is None:
            return None
        after = at + 1
        if self._word_at(after) == "after" and self._word_at(after + 1) == "next":
            return Day(start, after + 2, spec=Weekday(weekday, mode="week")), after + 2
        week = self._week_ref(after + 1 if self._word_at(after) == "of" else after)
        if week is not None:
            offset, after = week
            return Day(start, after, spec=Weekday(weekday, week=offset)), after
        if self._word_at(after) == "week" and self._word_at(after + 1) not in w.UNITS:
            return Day(start, after + 1, spec=Weekday(weekday, mode="week")), after + 1
        decoration = self._decoration(after)
        if decoration is not None:
            day, after = decoration
            return Day(start, after, spec=day.spec, check=weekday), after
        return Day(start, after, spec=Weekday(weekday, mode=mode)), after

    def _decoration(self, at: int) -> tuple[Day, int] | None:
        """The date written after a weekday: `fri 27th`, `fri the 27th`, `fri 27 nov`, `fri nov 27`, `fri 27/11`."""
        at = self._skip(at, "the")
        if self._kind_at(at) == "other" and self.tokens[at].text == ",":
            at += 1
        if at >= len(self.tokens):
            return None
        token = self.tokens[at]
        found = self._numeric(at) or self._month_day(at) if token.kind != "int" else self._month_day(at)
        if found is None or not isinstance(found[0], Day):
            return None
        day = found[0]
        if isinstance(day.spec, DayOfMonth) and day.spec.bare:
            return None  # `fri 2-5pm`: the number is an hour, not the 2nd
        return day, found[1]

    def _week_ref(self, at: int) -> tuple[int, int] | None:
        """`this week` (0), `next week` (1), `the week after next` (2): (offset, next position)."""
        start = self._skip(at, "the")
        word = self._word_at(start)
        if word in THIS_NEXT and self._word_at(start + 1) == "week":
            offset, after = (0 if word in w.THIS else 1), start + 2
            if self._word_at(after) == "after" and self._word_at(after + 1) == "next":
                offset, after = 2, after + 2
            return offset, after
        if word == "week" and self._word_at(start + 1) == "after" and self._word_at(start + 2) == "next":
            return 2, start + 3
        return None

    def _week(self, at: int) -> Found:
        """`this week`, `next week`, `the rest of the week`, `week of dec 7`, `w/c 7/12`, `next week friday`."""
        ref = self._week_ref(at)
        if ref is not None:
            offset, after = ref
            weekday = w.WEEKDAYS.get(self._word_at(after))
            if weekday is not None:
                return Day(at, after + 1, spec=Weekday(weekday, week=offset)), after + 1
            return Week(at, after, offset=offset), after
        start = self._skip(at, "the")
        if self._word_at(start) == "rest" and self._word_at(start + 1) == "of":
            after = self._skip(start + 2, "the", "this")
            if self._word_at(after) == "week":
                return Week(at, after + 1, offset=0), after + 1
        if self._word_at(start) == "week" and self._word_at(start + 1) not in (
            "of",
            "commencing",
            "beginning",
            "starting",
        ):
            return Week(at, start + 1, offset=0), start + 1  # `the week`, `all week`
        anchor_at = self._week_of(start)
        if anchor_at is not None:
            anchor = self._date(anchor_at)
            if anchor is not None and isinstance(anchor[0], Day):
                return Week(at, anchor[1], anchor=anchor[0].spec), anchor[1]
        return None

    def _week_of(self, at: int) -> int | None:
        word = self._word_at(at)
        if word in ("w/c", "wc", "wb"):
            return at + 1
        if word in ("week", "wk") and self._word_at(at + 1) in ("of", "commencing", "beginning", "starting"):
            return at + 2
        return None

    # -- `first tuesday of october`, `last day of oct 2015`, `2nd last week of 2018`, `20th of next month`

    def _nth(self, at: int) -> Found:
        start = self._skip(at, "the")
        token = self.tokens[start] if start < len(self.tokens) else None
        if token is None:
            return None
        if token.kind in ("ordinal", "int") and len(token.text) <= 2 and int(token.text) > 0:
            n, after = int(token.text), start + 1
            if self._word_at(after) == "last":
                n, after = -n, after + 1
        elif token.text == "last":
            n, after = -1, start + 1
        else:
            return None
        word = self._word_at(after)
        weekday = w.WEEKDAYS.get(word)
        unit = "week" if word in ("week", "wk") else "day" if word == "day" or weekday is not None else ""
        if not unit:
            if token.kind == "word" or not self._is(after, {"of", "in"}):
                return None
            unit, after = "day", after - 1  # `20 of next month`: the number is the day
        if token.kind == "int" and unit != "day":
            return None
        if not self._is(after + 1, {"of", "in"}):
            return None
        period = self._period(self._skip(after + 2, "the"))
        if period is None or (period[2] and n > 0 and unit == "day" and weekday is None and word != "day"):
            return None  # `24th of december` is a day of a month, with the month's own rules for ranges
        year, month, _, end = period
        for candidate in (year,) if year is not None else (self.today.year, self.today.year + 1):
            first, last = calendar.period_bounds(candidate, month)
            found = calendar.nth_in_period(first, last, n, unit=unit, weekday=weekday)
            if found is None:
                raise ParseError(
                    f"There is no such day in “{self._text(at, end)}”. Try `/leave last friday of october`."
                )
            if (
                found + timedelta(days=6 if unit == "week" else 0) >= self.today
                or candidate != self.today.year
            ):
                break
        if unit == "week":
            return Week(at, end, anchor=Fixed(found)), end
        return Day(at, end, spec=Fixed(found)), end

    def _period(self, at: int) -> tuple[int | None, int | None, bool, int] | None:
        """(year, month, named month without a year?, next position): `october [2014]`, `next month`, `2018`."""
        month = w.MONTHS.get(self._word_at(at))
        if month is not None:
            year_at = (
                at + 2 if self._kind_at(at + 1) == "other" and self.tokens[at + 1].text == "," else at + 1
            )
            year = self._year_at(year_at)
            return (year, month, False, year_at + 1) if year is not None else (None, month, True, at + 1)
        word, unit = self._word_at(at), self._word_at(at + 1)
        if word in THIS_NEXT and unit in ("month", "year"):
            shift = 0 if word in w.THIS else 1
            if unit == "year":
                return self.today.year + shift, None, False, at + 2
            moved = calendar.add_months(self.today.replace(day=1), shift)
            return moved.year, moved.month, False, at + 2
        year = self._year_at(at)
        return (year, None, False, at + 1) if year is not None else None

    def _year_at(self, at: int) -> int | None:
        token = self.tokens[at] if at < len(self.tokens) else None
        if token is not None and token.kind == "int" and len(token.text) == 4:
            return int(token.text)
        return None

    # -- named holidays: `christmas`, `next thanksgiving`, `thanksgiving 2014`, `easter in 3 years`, `christmas week`

    def _holiday(self, at: int) -> Found:
        start = at + 1 if self._is(at, THIS_NEXT) else at
        if named_days.key(self._word_at(start)).partition(" ")[0] not in named_days.first_words(self.country):
            return None
        end, name = start, ""
        for last in range(start, min(start + named_days.MAX_WORDS, len(self.tokens))):
            if (
                self._kind_at(last) not in ("word", "dash") and self.tokens[last].text != "."
            ):  # `st. patrick's`
                break
            candidate = named_days.key(self._text(start, last + 1))
            if self._word_at(last) not in ("of", "in", "the") and named_days.known(candidate, self.country):
                end, name = last + 1, candidate
        if not name:
            return None
        year, after = self._holiday_year(end)
        for candidate_year in (year,) if year is not None else (self.today.year, self.today.year + 1):
            days = named_days.days_of(name, candidate_year, self.country)
            if days and (year is not None or days[-1] >= self.today):
                break
        if not days:
            where = f" in {self.country}" if self.country else ""
            raise ParseError(
                f"I don't know when “{self._text(start, end)}” is{where} in {candidate_year}. Try `/leave dec 24`."
            )
        if self._word_at(after) == "week":
            return Week(at, after + 1, anchor=Fixed(days[0])), after + 1
        if len(days) > 1:  # a festival: `passover`, `lent`
            return Week(at, after, anchor=Fixed(days[0]), until=Fixed(days[-1])), after
        return Day(at, after, spec=Fixed(days[0])), after

    def _holiday_year(self, at: int) -> tuple[int | None, int]:
        """The year after a holiday's name: `2014`, `in 2014`, `of next year`, `in 3 years`, `9 months from now`."""
        if (year := self._year_at(self._skip(at, "in", "of"))) is not None:
            return year, self._skip(at, "in", "of") + 1
        period = self._period(self._skip(at + 1, "the")) if self._is(at, {"of", "in"}) else None
        if period is not None and period[0] is not None and period[1] is None:
            return period[0], period[3]
        offset = self._offset(at)
        if offset is not None and isinstance(offset[0], Day) and isinstance(offset[0].spec, Fixed):
            return offset[0].spec.day.year, offset[1]
        return None, at

    # -- offsets: `in 3 days`, `a week hence`, `3 fridays from now`, `two days after today`, `next 3 days`

    def _offset(self, at: int) -> Found:
        if (found := self._weekday_beside(at)) is not None:
            return found
        word = self._word_at(at)
        if word == "in" and self._count_at(at + 1) is not None:
            count, after = self._count_at(at + 1) or (1, at)
            shifted = self._shifted(self.today, count, self._word_at(after))
            if shifted is not None:
                return Day(at, after + 1, spec=Fixed(shifted)), after + 1
            return None
        if word in {"upcoming"} and (found := self._count_at(at + 1)) is not None:
            unit = self._word_at(found[1])
            if unit in w.OFFSET_DAYS:
                return self._upcoming(at, found[0], unit, found[1] + 1)
        if word in w.NEXT and self._count_at(at + 1) is not None:
            return self._next_stretch(at)
        if word in w.NEXT and self._word_at(at + 1) == "fortnight":
            return self._next_stretch(at)
        day_at = self._skip(at, "the")
        if self._word_at(day_at) == "day" and self._is(day_at + 1, {"after", "before"}):
            count, after = 1, day_at  # `(the) day after tomorrow`
        elif (found := self._count_at(at)) is not None:
            count, after = found
        else:
            return None
        unit = self._word_at(after)
        if unit in w.NEXT and (after_unit := self._word_at(after + 1)) in w.OFFSET_DAYS:
            return self._upcoming(at, count, after_unit, after + 2)  # `2 upcoming weeks`
        if unit in ANY_WEEKDAYS and self._word_at(after + 1) == "from":
            when = self._anchor(after + 2)
            if when is not None:
                day, end = when
                found_day = calendar.nth_weekday_after(
                    day, w.PLURAL_WEEKDAYS.get(unit, w.WEEKDAYS.get(unit, 0)), int(count)
                )
                return Day(at, end, spec=Fixed(found_day)), end
            return None
        if unit not in w.OFFSET_DAYS and unit not in w.OFFSET_MONTHS:
            return None
        link = self._word_at(after + 1)
        if link in w.HENCE:
            shifted = self._shifted(self.today, count, unit)
            return (Day(at, after + 2, spec=Fixed(shifted)), after + 2) if shifted is not None else None
        # `N days from X` is a length (docs/parsing.md); `N months from X`, `N days after/before X` are offsets
        if link in ("after", "before") or (link == "from" and unit in w.OFFSET_MONTHS):
            when = self._anchor(after + 2)
            if when is None:
                return None
            day, end = when
            shifted = self._shifted(day, -count if link == "before" else count, unit)
            return (Day(at, end, spec=Fixed(shifted)), end) if shifted is not None else None
        return None

    def _weekday_beside(self, at: int) -> Found:
        """`tuesday after christmas`, `the first monday after easter`, `3rd tue after xmas 2014`, `fri before dec 25`."""
        start = self._skip(at, "the")
        n = 1
        if self._kind_at(start) == "ordinal" and len(self.tokens[start].text) == 1:
            n, start = int(self.tokens[start].text), start + 1
        weekday = w.WEEKDAYS.get(self._word_at(start))
        link = self._word_at(start + 1)
        if weekday is None or link not in ("after", "before") or n == 0:
            return None
        when = self._anchor(start + 2)
        if when is None:
            return None
        day, end = when
        if link == "after":
            found = calendar.nth_weekday_after(day, weekday, n)
        else:
            found = day - timedelta(days=(day.weekday() - weekday - 1) % 7 + 1 + 7 * (n - 1))
        return Day(at, end, spec=Fixed(found)), end

    def _count_at(self, at: int) -> tuple[float, int] | None:
        if at >= len(self.tokens) or self.tokens[at].kind == "number":
            return None
        if self._word_at(at) == "fortnight":
            return 1.0, at
        if self._word_at(at) == "a" and self._word_at(at + 1) in OFFSET_UNITS:
            return 1.0, at + 1
        found = self._count(at)
        return found if found is not None and found[1] > at else None

    def _shifted(self, day: date, count: float, unit: str) -> date | None:
        if count != int(count):
            return None
        if unit in w.OFFSET_DAYS:
            return day + timedelta(days=int(count) * w.OFFSET_DAYS[unit])
        if unit in w.OFFSET_MONTHS:
            return calendar.add_months(day, int(count) * w.OFFSET_MONTHS[unit])
        return None

    def _anchor(self, at: int) -> tuple[date, int] | None:
        """The day at ``at`` pinned from today (`now`, `today`, `christmas`, `monday`), and the position after it."""
        at = self._skip(at, "right")
        found = self._date(at)
        if found is None or not isinstance(found[0], Day):
            return None
        spec = found[0].spec
        if isinstance(spec, DayOfMonth) and spec.bare:
            return None
        return start_of(spec, today=self.today), found[1]

    def _next_stretch(self, at: int) -> Found:
        """`next 3 days` (from tomorrow), `next 2 weeks` (from next Monday), `next fortnight`: a length."""
        count, after = self._count_at(at + 1) or (1.0, at + 1)
        unit = w.UNITS.get(self._word_at(after))
        if unit is None:
            return None
        halves = round(count * unit * 2)
        if not 0 < halves <= 2 * MAX_LENGTH_DAYS:
            return None
        start: Day | Week = Week(at, at + 1, offset=1) if unit >= 5 else Day(at, at + 1, spec=Relative(1))
        return Length(at, after + 1, halves=halves, text=self._text(at, after + 1), start=start), after + 1

    def _upcoming(self, at: int, count: float, unit: str, end: int) -> Found:
        """`upcoming 2 weeks`, `2 upcoming days`: the day or week that many ahead (as Duckling reads them)."""
        if w.OFFSET_DAYS[unit] >= 7:
            return Week(at, end, offset=int(count * w.OFFSET_DAYS[unit] // 7)), end
        return Day(at, end, spec=Relative(int(count))), end

    def _text(self, first: int, last: int) -> str:
        return _span_text(self, first, last)

    # -- parts of the day --------------------------------------------------------------------

    def _part(self, at: int) -> Found:
        word = self._word_at(at)
        if word in w.THIS and self._word_at(at + 1) in PARTS_OF_DAY:
            part = "AM" if self._word_at(at + 1) in w.MORNING else "PM"
            return [Day(at, at + 1, spec=Relative(0)), Part(at + 1, at + 2, part=part)], at + 2
        if word == "in" and self._word_at(self._skip(at + 1, "the")) in PARTS_OF_DAY:
            return self._part(self._skip(at + 1, "the"))
        if word in w.MORNING and not (word == "am" and self._word_at(at - 1) == "i"):
            return Part(at, at + 1, part="AM"), at + 1
        if word in w.AFTERNOON:
            return Part(at, at + 1, part="PM"), at + 1
        if word in w.HALF:
            return Part(at, self._skip(at + 1, "a", "day"), part="HALF"), self._skip(at + 1, "a", "day")
        lunch_at = self._skip(at + 1, "the")
        if word in ("after", "from") and self._word_at(lunch_at) in w.LUNCH:
            return Part(at, lunch_at + 1, part="PM"), lunch_at + 1
        if word in ("before", "until", "till", "til", "to") and self._word_at(lunch_at) in w.LUNCH:
            return Part(at, lunch_at + 1, part="AM"), lunch_at + 1
        if word in w.LUNCH:
            return Part(at, at + 1, part="LUNCH"), at + 1
        return None

    # -- single words ----------------------------------------------------------------------------

    def _word(self, at: int) -> tuple[Item | None, int]:
        token = self.tokens[at]
        word = token.text
        if self._is_link(at):
            return Link(at, at + 1, word=word), at + 1
        if word == "and":
            return And(at, at + 1), at + 1
        if word == "between":
            self.between = True
            return None, at + 1
        if word in self.types and token.kind == "word":
            return Kind(at, at + 1, name=self.types[word]), at + 1
        if word == "for":
            return self._for(at)
        if word in w.REASON_WORDS:
            after = at + 2 if self._word_at(at + 1) in ("of", "to") else at + 1
            return self._reason(at, after), len(self.tokens)
        if (
            token.kind in ("other", "dash")
            or word in w.FILLER
            or word in w.FROM_WORDS
            or word in w.SHY_MONTHS
        ):
            return None, at + 1
        if word in ("am", "i"):  # "i am off friday"
            return None, at + 1
        return Unknown(at, at + 1, word=word), at + 1

    def _for(self, at: int) -> tuple[Item | None, int]:
        """`for 3 days` and `for friday` are not reasons; `for the dentist` is."""
        after = self._skip(at + 1, "the")
        if after >= len(self.tokens) or self._starts_request(after):
            return None, at + 1
        return self._reason(at, at + 1), len(self.tokens)

    def _starts_request(self, at: int) -> bool:
        if self._holiday(at) is not None:
            return False  # `for christmas`: the occasion, a reason
        if self._length(at) is not None or self._date(at) is not None or self._part(at) is not None:
            return True
        return self._word_at(at) in THIS_NEXT | {"week", "rest", "day"}

    def _reason(self, at: int, text_at: int) -> Reason:
        text = self.text[self.tokens[text_at].start :].strip() if text_at < len(self.tokens) else ""
        return Reason(at, len(self.tokens), text=text)


@dataclass(frozen=True)
class _Time:
    minute: int
    meridiem: str  # "am", "pm", "24" for a 24-hour time (`09:00`, `17:30`), or "" when it could be either
    bare: bool = False


def _read_time(text: str) -> _Time:
    meridiem = text[-2:] if text[-2:] in ("am", "pm") else f"{text[-1]}m" if text[-1] in "ap" else ""
    digits = text.rstrip("apm")
    hour_text, _, minute_text = digits.replace(".", ":").replace("h", ":").partition(":")
    hour, minute = int(hour_text), int(minute_text or 0)
    if (meridiem and not 1 <= hour <= 12) or hour > 23 or minute > 59:
        raise ParseError(
            f"“{text}” is not a time of day. Try `/leave tue 09:00-12:30` or `/leave fri 2pm-5pm`."
        )
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif hour_text.startswith("0") or hour >= 13:
        meridiem = "24"  # `09:00`, `17:30`: a 24-hour clock, no half of the day to guess
    return _Time(hour * 60 + minute, meridiem)


def _settle_hours(first: _Time, second: _Time, explicit: bool, explicit_end: bool) -> tuple[int, int]:
    """Minutes of `9-12pm`, `2:00-2:30 pm`, `9am-5`, `11:30-1:30`: one meridiem serves the whole range, and
    hours without one are working hours (`1-2:30` is after lunch, not in the night)."""
    start, end = first.minute, second.minute
    if not first.meridiem:
        start = _bare_before(start, second)
    if not second.meridiem:
        end = _bare_after(end, _Time(start, first.meridiem or ("pm" if start >= 720 else "")))
    if not first.meridiem and not second.meridiem and start < WORKDAY_START and end < 720:
        start, end = start + 720, end + 720  # `tomorrow 1-2:30`
    return start, end


def _bare_before(hour_minute: int, end: _Time) -> int:
    if end.meridiem == "pm" and hour_minute < 720 and hour_minute + 720 < end.minute:
        return hour_minute + 720  # 2-5pm, 2:00 to 2:30 pm
    return hour_minute  # 9-12pm, 9-17:30


def _bare_after(hour_minute: int, start: _Time) -> int:
    if hour_minute <= start.minute and hour_minute < 720 and hour_minute + 720 > start.minute:
        return hour_minute + 720  # 9am-5, 14:00-5, 11:30-1:30
    if start.meridiem == "pm" and hour_minute < 720 and hour_minute + 720 > start.minute:
        return hour_minute + 720  # 2pm-5:30
    return hour_minute


def _fixed(year: int, month: int, day: int, written: str | None) -> Fixed:
    try:
        return Fixed(date(year, month, day))
    except ValueError:
        shown = written or f"{day} {w.MONTH_NAMES[month]} {year}"
        raise ParseError(f"There is no date “{shown}”. Try `/leave 2026-12-24`.") from None


def _numeric_date(text: str, *, day_first: bool) -> Spec:
    """`24/12`, `24/12/2026`, `24.12.26`, `2026/12/24`, `24-12-2026`: day first unless the locale is en-US."""
    parts = [p for p in text.replace(".", "/").replace("-", "/").split("/") if p]
    if len(parts[0]) == 4:
        if len(parts) != 3:
            raise ParseError(f"I couldn't read “{text}” as a date. Try `/leave 2026-12-24`.")
        return _fixed(int(parts[0]), int(parts[1]), int(parts[2]), text)
    day, month = (int(parts[0]), int(parts[1])) if day_first else (int(parts[1]), int(parts[0]))
    order = "day/month" if day_first else "month/day"
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        swapped = f"{parts[1]}/{parts[0]}"
        fits = 1 <= day <= 12 and 1 <= month <= 31
        advice = (
            f"Did you mean `/leave {swapped}`?"
            if fits
            else f"Try `/leave {'24/12' if day_first else '12/24'}`."
        )
        raise ParseError(f"“{text}” is not a date when dates are written {order}. {advice}")
    if len(parts) == 3:
        year = int(parts[2]) + (2000 if len(parts[2]) == 2 else 0)
        return _fixed(year, month, day, text)
    return MonthDay(month, day)


def _span_text(grammar: Grammar, first: int, last: int) -> str:
    tokens = grammar.tokens
    return grammar.text[tokens[first].start : tokens[last - 1].end]
