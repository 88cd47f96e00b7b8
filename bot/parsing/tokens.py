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
    | (?P<time>\d{1,2}(?:[:.]\d{2})?[ap]m|\d{1,2}:\d{2})(?!\w)
    | (?P<number>\d{1,3}\.5)(?=\s*(?:working\s+|business\s+|work\s+)?(?:days?|weeks?|wks?)\b)
    | (?P<numdate>\d{1,4}[/.]\d{1,2}(?:[/.]\d{2,4})?|\d{1,2}-\d{1,2}-\d{4})(?!\d)
    | (?P<ordinal>\d{1,2})(?:st|nd|rd|th)(?!\w)
    | (?P<int>\d+)
    | (?P<word>w/c|a/l|half-day|[^\W\d_]+(?:['’][^\W\d_]+)*)
    | (?P<dash>[-–—~])
    | (?P<other>\S)
    """,
    re.VERBOSE | re.IGNORECASE,
)


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
    """Split cleaned text into tokens; ordinals keep only their digits (`24th` → `24`)."""
    tokens = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group(kind) if kind == "ordinal" else match.group(0)
        tokens.append(Token(kind, value.lower(), match.start(), match.end()))
    return tokens
