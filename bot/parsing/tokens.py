"""Text → tokens, after dropping what must not matter: case, emoji, extra spaces, trailing punctuation."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# Slack sends emoji in command text as shortcodes (:palm_tree:); a time such as 09:00-12:30 has no letter.
SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+'-]*[a-z][a-z0-9_+'-]*:(?!\w)", re.IGNORECASE)
DOTTED_MERIDIEM = re.compile(r"\b([ap])\.m\b\.?", re.IGNORECASE)
QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]*)[\"“”„«»]")
# Emoji, pictographs, skin tones, joiners and other symbols; accents (Mn) stay, except emoji variation selectors.
DROPPED_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn", "Cf", "Cc", "Me"}
VARIATION_SELECTORS = {chr(c) for c in range(0xFE00, 0xFE10)}
TRAILING = " .!?,;:…"

TOKEN = re.compile(
    r"""
      (?P<iso>\d{4}-\d{1,2}-\d{1,2})(?!\d)
    | (?P<time>\d{1,2}(?:[:.]\d{2})?[ap]m?|\d{1,2}:\d{2}|\d{1,2}h(?:\d{2})?)(?!\w)
    | (?P<number>\d{1,3}\.5)(?=\s*(?:working\s+|business\s+|work\s+)?(?:days?|weeks?|wks?)\b)
    | (?P<numdate>\d{1,4}[/.]\d{1,2}(?:[/.]\d{2,4})?|\d{1,2}-\d{1,2}-\d{4}|\d{1,2}\s+/\s+\d{1,2})(?!\d)
    | (?P<ordinal>\d{1,2})(?:st|nd|rd|th)(?!\w)
    | (?P<int>\d+)
    | (?P<word>w/c|a/l|half-day|[^\W\d_]+(?:['’][^\W\d_]+)*)
    | (?P<dash>[-–—~])
    | (?P<other>\S)
    """,
    re.VERBOSE | re.IGNORECASE,
)


UNITS_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS_WORDS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
]
CARDINAL_WORDS = {
    **{name: n for n, name in enumerate(UNITS_WORDS, start=1)},
    **{name: n for n, name in enumerate(TEENS_WORDS, start=10)},
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINAL_NAMES = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
]
ORDINAL_NAMES += ["eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth"]
ORDINAL_NAMES += ["eighteenth", "nineteenth", "twentieth"]
ORDINAL_WORDS = {name: n for n, name in enumerate(ORDINAL_NAMES, start=1)} | {"thirtieth": 30}


APPROXIMATE = {"morning", "afternoon", "noon", "lunchtime", "midday"}


class Token(NamedTuple):
    """One piece of the text: its kind, its lower-cased text and where it sits in the cleaned text."""

    kind: str  # iso, time, number, numdate, ordinal, int, word, dash, other
    text: str
    start: int
    end: int


def clean(text: str) -> str:
    """The text without emoji, shortcodes, runs of spaces and trailing punctuation; `p.m.` as `pm`."""
    text = SHORTCODE.sub(" ", text)
    if not text.isascii():
        text = "".join(
            " " if unicodedata.category(c) in DROPPED_CATEGORIES or c in VARIATION_SELECTORS else c
            for c in text
        )
    text = DOTTED_MERIDIEM.sub(r"\1m", text)
    return " ".join(text.split()).rstrip(TRAILING).lstrip(" .!?,;:")


def split_quoted(text: str) -> tuple[str, str]:
    """(text without its first quoted part, the quoted part): `fri "moving house"` is a reason."""
    match = QUOTED.search(text)
    if match is None:
        return text, ""
    rest = f"{text[: match.start()]} {text[match.end() :]}"
    return " ".join(rest.split()), " ".join(match.group(1).split())


def tokenize(text: str) -> list[Token]:
    """Split cleaned text into tokens; ordinals keep only their digits (`24th`, `twenty-fourth` → `24`)."""
    tokens = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group(kind) if kind == "ordinal" else match.group(0)
        value = "".join(value.lower().split())
        if kind == "word" and value.removesuffix("ish") in APPROXIMATE:
            value = value.removesuffix("ish")  # `afternoonish`
        tokens.append(Token(kind, value, match.start(), match.end()))
    return _numbers_in_words(tokens)


def _numbers_in_words(tokens: list[Token]) -> list[Token]:
    """`seventeenth` → ordinal 17, `twenty-first` → ordinal 21, `two thousand nineteen` → int 2019."""
    out: list[Token] = []
    at = 0
    while at < len(tokens):
        found = _number_at(tokens, at)
        if found is None:
            out.append(tokens[at])
            at += 1
            continue
        token, at = found
        out.append(token)
    return out


def _word(tokens: list[Token], at: int) -> str:
    return tokens[at].text if at < len(tokens) and tokens[at].kind == "word" else ""


def _joined(tokens: list[Token], at: int) -> int:
    """Where the units of `twenty-first` start: past a dash between tens and units."""
    return at + 1 if at < len(tokens) and tokens[at].kind == "dash" and _word(tokens, at + 1) else at


def _number_at(tokens: list[Token], at: int) -> tuple[Token, int] | None:
    first = _word(tokens, at)
    if first in ORDINAL_WORDS:
        return Token("ordinal", str(ORDINAL_WORDS[first]), tokens[at].start, tokens[at].end), at + 1
    if first in TENS:
        unit_at = _joined(tokens, at + 1)
        unit = _word(tokens, unit_at)
        if unit in ORDINAL_WORDS and ORDINAL_WORDS[unit] < 10:
            value = TENS[first] + ORDINAL_WORDS[unit]
            return Token("ordinal", str(value), tokens[at].start, tokens[unit_at].end), unit_at + 1
    if first in CARDINAL_WORDS and _word(tokens, at + 1) == "thousand":
        value, last, after = CARDINAL_WORDS[first] * 1000, at + 1, at + 2
        after = after + 1 if _word(tokens, after) == "and" else after
        rest = _below_100(tokens, after)
        if rest is not None:
            value, last, after = value + rest[0], rest[1], rest[1] + 1
        return Token("int", str(value), tokens[at].start, tokens[last].end), after
    return None


def _below_100(tokens: list[Token], at: int) -> tuple[int, int] | None:
    """(value, position of its last token) of `nineteen`, `twenty`, `twenty-one`."""
    first = _word(tokens, at)
    if first in TENS:
        unit_at = _joined(tokens, at + 1)
        unit = CARDINAL_WORDS.get(_word(tokens, unit_at), 10)
        return (TENS[first] + unit, unit_at) if unit < 10 else (TENS[first], at)
    return (CARDINAL_WORDS[first], at) if first in CARDINAL_WORDS else None
