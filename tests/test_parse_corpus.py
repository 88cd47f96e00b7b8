"""Every case of the corpus (`tests/parse_corpus.py`) through `parse_request`: exact drafts, clear errors."""

from __future__ import annotations

import pytest
from parse_corpus import CASES, ISSUE_EXAMPLES, Case

from bot.parsing import ParseError, parse_request
from providers.models import LeaveType


def parse_case(case: Case) -> dict[str, object]:
    """The JSON of the draft ``case.text`` becomes in the case's context."""
    types = [LeaveType(id=str(n), name=name) for n, name in enumerate(case.types, start=1)]
    draft = parse_request(case.text, today=case.today_date(), leave_types=types, locale=case.locale)
    return draft.model_dump(mode="json")


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is not None], ids=lambda c: c.id)
def test_text_becomes_exactly_this_draft(case: Case) -> None:
    """A text of the corpus becomes exactly the draft the corpus gives for it."""
    assert parse_case(case) == case.expected


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is None], ids=lambda c: c.id)
def test_text_is_refused_with_what_and_an_example(case: Case) -> None:
    """A text the corpus marks as an error is refused with one line naming the problem and a working example."""
    with pytest.raises(ParseError) as caught:
        parse_case(case)

    message = str(caught.value)
    assert case.error in message
    assert "`/leave " in message
    assert "\n" not in message


def test_corpus_is_large_and_holds_every_example_of_the_issue() -> None:
    """The corpus has at least 200 cases and every example the issue lists, word for word."""
    texts = {case.text for case in CASES}

    assert len(CASES) >= 200
    assert [example for example in ISSUE_EXAMPLES if example not in texts] == []


def test_corpus_cases_are_not_repeated() -> None:
    """No text appears twice in the same context (a repeat would hide a typo in the other)."""
    keys = [(c.text, c.today, c.now, c.zone, c.locale, c.types) for c in CASES]

    assert len(keys) == len(set(keys))
