"""The parser's one exception."""

from __future__ import annotations

EXAMPLES = "`/leave tomorrow`, `/leave fri pm for the dentist` or `/leave dec 24 - jan 2`"


class ParseError(ValueError):
    """The text could not be understood; the message says what and shows what would work."""
