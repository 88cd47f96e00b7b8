"""Other names of a holiday: a name people write is the same day as the name the calendar uses."""

from __future__ import annotations

from datetime import date

import pytest

from bot.parsing import ParseError, parse_request

TODAY = date(2026, 11, 23)  # a Monday


def days(text: str, country: str | None = "US") -> tuple[date, date]:
    draft = parse_request(text, today=TODAY, country=country)
    return draft.start_date, draft.end_date


@pytest.mark.parametrize(
    ("other", "calendar_name"),
    [
        # Eid al-Adha
        ("bakrid 2027", "eid al-adha 2027"),
        ("Bakr-Id 2027", "eid al-adha 2027"),
        ("bakra eid in 2028", "eid al-adha 2028"),
        ("id-ul-adha 2027", "eid al-adha 2027"),
        ("Eid ul Adha 2029", "eid al-adha 2029"),
        ("feast of the sacrifice 2027", "eid al-adha 2027"),
        ("the feast of sacrifice 2028", "eid al-adha 2028"),
        ("kurban bayrami 2027", "eid al-adha 2027"),
        # Eid al-Fitr
        ("eid ul-fitr 2027", "eid al-fitr 2027"),
        ("id ul fitr 2028", "eid al-fitr 2028"),
        ("ramazan bayrami 2027", "eid al-fitr 2027"),
        # the Prophet's birthday, the Islamic new year
        ("mawlid 2027", "prophet's birthday 2027"),
        ("mawlid al-nabi 2028", "prophet's birthday 2028"),
        ("milad-un-nabi 2027", "prophet's birthday 2027"),
        ("hijri new year 2027", "islamic new year 2027"),
        ("amun jadid 2028", "islamic new year 2028"),
        # Holy Week
        ("covenant thursday 2027", "maundy thursday 2027"),
        ("great and holy thursday 2028", "maundy thursday 2028"),
        ("holy friday 2027", "good friday 2027"),
        ("great friday 2028", "good friday 2028"),
        # the Chinese New Year
        ("lunar new year 2028", "chinese new year 2028"),
        ("chinese lunar new year's day 2027", "chinese new year 2027"),
        # Indian days: a jayanti is a birthday, and regional names
        ("rabindra jayanti 2027", "guru rabindranath's birthday 2027"),
        ("rabindranath jayanti 2028", "guru rabindranath's birthday 2028"),
        ("guru ravidas jayanti 2027", "guru ravi das's birthday 2027"),
        ("ravidass birthday 2028", "guru ravi das's birthday 2028"),
        ("valmiki jayanti 2027", "maharishi valmiki's birthday 2027"),
        ("pargat diwas 2028", "maharishi valmiki's birthday 2028"),
        ("mahavir jayanti 2027", "mahavira's birthday 2027"),
        ("mahaveer janma kalyanak 2028", "mahavira's birthday 2028"),
        ("guru govind singh jayanti 2027", "guru gobind singh's birthday 2027"),
        ("rama navami 2027", "ram navami 2027"),
        ("karwa chauth 2027", "karaka chaturthi 2027"),
        ("karva chauth in 2028", "karaka chaturthi 2028"),
        ("ratha-yatra 2027", "rath yatra 2027"),
        ("rakhi 2027", "raksha bandhan 2027"),
        ("yugadi 2027", "ugadi 2027"),
        ("chaitra sukhladi 2028", "ugadi 2028"),
        ("bhai dooj 2027", "bhai duj 2027"),
        ("chhath puja 2027", "pratihar shashthi 2027"),
        ("chhoti holi 2027", "holika dahan 2027"),
        ("jamshedi navroz 2027", "parsi new year 2027"),
    ],
)
def test_another_name_of_a_holiday_is_the_same_day(other: str, calendar_name: str) -> None:
    assert days(other) == days(calendar_name)


def test_other_names_are_days_the_calendars_give() -> None:
    """Spot checks against the dates the `holidays` package gives (Egypt's Eid, India's days)."""
    assert days("bakr id 2018") == (date(2018, 8, 21), date(2018, 8, 21))
    assert days("rabindra jayanti 2018") == (date(2018, 5, 9), date(2018, 5, 9))
    assert days("covenant thu 2027") == (date(2027, 3, 25), date(2027, 3, 25))  # Easter 2027 is 28 March


def test_an_other_name_does_not_take_a_word_of_its_own() -> None:
    """`sacrifice` alone is the Eid; a reason after it stays a reason."""
    draft = parse_request("feast of the sacrifice 2027 for family", today=TODAY, country="US")
    assert draft.reason == "family"


@pytest.mark.parametrize(
    ("text", "named", "asked"),
    [
        ("koningsdag", "Koningsdag is a holiday in .*Netherlands", "27 Apr"),
        ("King's Day 2027", "King's Day is a holiday in", "27 Apr 2027"),
        ("anzac day", "ANZAC Day is a holiday in Australia", "25 Apr"),
        ("waitangi day", "Waitangi Day is a holiday in New Zealand", "6 Feb"),
    ],
)
def test_a_holiday_only_another_country_keeps_is_refused_by_name(text: str, named: str, asked: str) -> None:
    """Not guessed, not "I couldn't understand": the answer names the holiday, where it is kept, and its date."""
    with pytest.raises(ParseError, match=rf"{named}.*not in the US calendar.*`/leave {asked}`"):
        parse_request(text, today=TODAY, country="US")


def test_a_holiday_of_the_companys_own_country_is_its_day() -> None:
    assert days("koningsdag", country="NL") == (date(2027, 4, 27), date(2027, 4, 27))


def test_a_refused_holiday_with_a_year_is_answered_with_that_years_date() -> None:
    with pytest.raises(ParseError, match=r"`/leave 26 Apr 2014`"):
        parse_request("koningsdag 2014", today=TODAY, country="US")  # 27 April 2014 was a Sunday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tuesday after christmas", date(2026, 12, 29)),
        ("the first monday after easter", date(2027, 3, 29)),  # Easter 2027 is 28 March
        ("3rd tue after xmas 2027", date(2028, 1, 11)),
        ("second friday after thanksgiving", date(2026, 12, 4)),
        ("fri before christmas", date(2026, 12, 18)),
        ("the 2nd friday before dec 25", date(2026, 12, 11)),
        ("monday after 5 march", date(2027, 3, 8)),
    ],
)
def test_a_weekday_after_or_before_a_day(text: str, expected: date) -> None:
    """`<nth> <weekday> after/before <day>`: counted from the day, the day itself left out."""
    assert days(text) == (expected, expected)


def test_a_weekday_after_a_word_that_is_no_day_keeps_its_meaning() -> None:
    """`friday after next` is the Friday of the week after next; `fri after lunch` is its afternoon."""
    assert days("friday after next") == (date(2026, 12, 4), date(2026, 12, 4))
    assert span_parts("fri after lunch") == ("PM", "PM")


def span_parts(text: str) -> tuple[object, object]:
    draft = parse_request(text, today=TODAY, country="US")
    return draft.start, draft.end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the ides of march", date(2027, 3, 15)),
        ("ides of mar 2028", date(2028, 3, 15)),
        ("the ides of october", date(2027, 10, 15)),
        ("ides of january", date(2027, 1, 13)),
    ],
)
def test_the_ides_of_a_month(text: str, expected: date) -> None:
    """The 15th of March, May, July and October; the 13th of the other months."""
    assert days(text) == (expected, expected)


@pytest.mark.parametrize(
    ("other", "calendar_name"),
    [
        ("labour day", "labor day"),
        ("veteran's day", "veterans day"),
        ("juneteenth", "juneteenth national independence day"),
        ("st. patrick's day", "saint patrick's day"),
        ("st. valentine's day", "valentine's day"),
    ],
)
def test_a_spelling_of_a_us_holiday_is_that_holiday(other: str, calendar_name: str) -> None:
    assert days(other) == days(calendar_name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("april fools day", date(2027, 4, 1)),
        ("april fool's", date(2027, 4, 1)),
        ("April Fools Day 2027", date(2027, 4, 1)),
    ],
)
def test_april_fools_day_is_a_fixed_day(text: str, expected: date) -> None:
    assert days(text) == (expected, expected)


def test_a_holiday_of_another_country_without_a_date_this_year_still_answers_by_name() -> None:
    """Election Day (Northern Mariana Islands) has no date the calendar gives for now: a friendly refusal still."""
    with pytest.raises(ParseError, match=r"Election Day is a holiday in .*`/leave dec 24`"):
        parse_request("election day", today=TODAY, country="US")
