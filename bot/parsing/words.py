"""The closed English vocabulary of `/leave` requests: every word the grammar knows, and what it is."""

from __future__ import annotations

WEEKDAYS = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

MONTHS = {
    **dict.fromkeys(("jan", "january"), 1),
    **dict.fromkeys(("feb", "february"), 2),
    **dict.fromkeys(("mar", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("may",), 5),
    **dict.fromkeys(("jun", "june"), 6),
    **dict.fromkeys(("jul", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}
MONTH_NAMES = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# Month words that are also everyday English ("I may be off"): a month only next to a day number.
SHY_MONTHS = {"may", "mar"}

RELATIVE_DAYS = {"today": 0, "now": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomorow": 1, "yesterday": -1}
RELATIVE_DAYS |= {
    f"{word}s": n for word, n in RELATIVE_DAYS.items() if word != "now"
}  # `tomorrows`, `todays`
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
}
# Length units in working days; a fortnight is "a" unit of ten.
UNITS = {
    "day": 1,
    "days": 1,
    "d": 1,
    "weekday": 1,
    "weekdays": 1,
    "workday": 1,
    "workdays": 1,
    "week": 5,
    "weeks": 5,
    "wk": 5,
    "wks": 5,
    "fortnight": 10,
}
UNIT_QUALIFIERS = {"working", "work", "business"}

MORNING = {"am", "morning", "morn"}
AFTERNOON = {"pm", "afternoon", "arvo"}
LUNCH = {"lunch", "lunchtime", "noon", "midday"}
HALF = {"half", "half-day", "halfday"}

RANGE_WORDS = {"to", "until", "untill", "till", "til", "through", "thru", "-", "–", "—", "~"}
FROM_WORDS = {"from", "starting", "start", "beginning", "commencing"}
REASON_WORDS = {"because", "cos", "coz", "cause", "due"}  # "because of", "due to": the next word is dropped
THIS = {"this", "current"}
NEXT = {"next", "following", "coming", "upcoming"}
# Offsets from a day: `in 3 days`, `2 weeks hence`, `three months from now`, `3 fridays from now`.
OFFSET_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "fortnight": 14, "fortnights": 14}
OFFSET_MONTHS = {"month": 1, "months": 1, "year": 12, "years": 12}
PLURAL_WEEKDAYS = {
    "mondays": 0,
    "tuesdays": 1,
    "wednesdays": 2,
    "thursdays": 3,
    "fridays": 4,
    "saturdays": 5,
    "sundays": 6,
}
HENCE = {"hence", "later"}

FILLER = {
    "off",
    "out",
    "on",
    "the",
    "of",
    "leave",
    "please",
    "pls",
    "plz",
    "i",
    "i'm",
    "im",
    "i'll",
    "i’m",
    "i’ll",
    "will",
    "be",
    "me",
    "my",
    "book",
    "booking",
    "request",
    "requesting",
    "take",
    "taking",
    "need",
    "want",
    "like",
    "would",
    "i'd",
    "could",
    "can",
    "have",
    "all",
    "whole",
    "full",
    "entire",
    "inclusive",
    "incl",
    "both",
    "at",
    "away",
    "work",
    "office",
    "ooo",
    "time",
    "just",
    "only",
    "hi",
    "hey",
    "is",
    "it",
    "as",
    "day",
    "around",
    "about",
    "approximately",
    "roughly",
    "ish",
    "right",
}

# Words that say which kind of leave, grouped by meaning; a group matches a provider's leave type
# whose name holds any word of the group ("ill" -> "Sick Leave", "pto" -> "Annual Leave").
LEAVE_TYPE_GROUPS = [
    frozenset({"sick", "ill", "illness", "unwell", "sickness", "poorly"}),
    frozenset({"annual", "vacation", "vacay", "holiday", "holidays", "hol", "hols", "pto", "paid", "a/l"}),
]
LEAVE_TYPE_WORDS = frozenset().union(*LEAVE_TYPE_GROUPS)
# Words of a leave type's name that say nothing about which type it is.
GENERIC_TYPE_WORDS = {"leave", "day", "days", "time", "off", "in", "of", "the", "a", "and", "for", "&", "-"}
