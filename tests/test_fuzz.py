"""Signed but hostile: thousands of mutated Slack payloads, correctly signed, never answered 5xx, never
writing to the HR system.

Hypothesis draws the mutations (a field removed, or replaced by another type, a huge number, a long or
deeply nested value, the wrong kind of button value, a mangled form encoding) of payloads whose honest
versions write nothing at the HR system: slash commands, a non-approver's clicks and modals on Alice's
request, the App Home. Every one goes over real HTTP to the running app; then its work after the ack is
drained and the HR system must hold exactly what it held before.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
import slack_requests as sr
from conftest import ALICE, FIGURES, MALLORY, Bot
from helpers.cards import submitted_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.views import ids

CASES = 2_000
PREFIX = "payload="

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "1", "0", "-1", "99999999999999999999999", "1e9", "nope", "{}", "null", "[1]"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
)


DEEP = "__nested__"  # stands for JSON nested deeper than json.dumps can write: spliced into the text


hostile_values = st.one_of(
    json_values,
    st.integers(min_value=20, max_value=3_000).map(lambda levels: f"{DEEP}{levels}"),
    st.text(min_size=5_000, max_size=6_000),
)


def honest_payloads(request_id: int, response_url: str) -> list[dict[str, Any] | dict[str, str]]:
    """Payloads whose honest versions write nothing at the HR system (Mallory approves nothing)."""
    click = [
        sr.block_action(user_id=MALLORY, action_id=action, value=str(request_id), response_url=response_url)
        for action in (ids.APPROVE, ids.DECLINE, ids.MINE_CANCEL, ids.MINE_CHANGE)
    ]
    home = [
        sr.block_action(user_id=MALLORY, action_id=action, value=str(request_id), container_type="view")
        for action in (ids.HOME_APPROVE, ids.HOME_DECLINE, ids.HOME_CANCEL, ids.HOME_REQUEST)
    ]
    draft = {"start_date": "2027-01-04", "end_date": "2027-01-04", "start": "AM", "end": "PM"}
    preview = json.dumps({"id": "d1", "draft": draft})
    edit = [
        sr.block_action(user_id=ALICE, action_id=action, value=value, response_url=response_url)
        for action, value in ((ids.EDIT, preview), (ids.DISCARD, "d1"))
    ]
    decline_modal = sr.view_submission(
        user_id=MALLORY,
        callback_id=ids.DECLINE_MODAL,
        private_metadata=str(request_id),
        values={ids.DECLINE_REASON: {ids.DECLINE_REASON: {"type": "plain_text_input", "value": "no"}}},
    )
    change_modal = sr.view_submission(
        user_id=MALLORY,
        callback_id=ids.REQUEST_MODAL,
        private_metadata=str(request_id),
        values={
            ids.START_DATE: {ids.START_DATE: {"type": "datepicker", "selected_date": "2027-01-04"}},
            ids.END_DATE: {ids.END_DATE: {"type": "datepicker", "selected_date": "2027-01-05"}},
        },
    )
    home_opened = {
        "type": "event_callback",
        "event_id": "Ev1",
        "event": {"type": "app_home_opened", "user": MALLORY, "tab": "home"},
    }
    command = dict(parse_qsl(sr.slash_command("next friday pm", user_id=MALLORY, response_url=response_url)))
    return [*click, *home, *edit, decline_modal, change_modal, home_opened, command]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a node inside ``value``."""
    found = [prefix] if prefix else []
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        found += paths(child, (*prefix, key))
    return found


def mutated(payload: Any, path: tuple[Any, ...], how: str, replacement: Any) -> Any:
    """A deep copy of ``payload`` with the node at ``path`` removed or replaced."""
    copy = json.loads(json.dumps(payload))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if how == "remove":
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


def body_of(payload: dict[str, Any], encoding: str) -> tuple[str, bool]:
    """The HTTP body Slack would send ``payload`` as (form, payload= or JSON), sometimes mangled."""
    if isinstance(payload, dict) and "command" in payload:
        return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}), False
    text = re.sub(rf'"{DEEP}(\\d+)"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), json.dumps(payload))
    if payload.get("type") == "event_callback":
        return text, True
    if encoding == "raw":  # not url-encoded
        return PREFIX + text, False
    if encoding == "truncated":
        return (PREFIX + quote(text))[:-7], False
    return PREFIX + quote(text), False


def cases(honest: list[Any]) -> list[tuple[str, bool]]:
    """``CASES`` signed-to-be bodies, drawn by hypothesis from mutations of ``honest``."""
    drawn: list[tuple[str, bool]] = []

    @settings(
        max_examples=CASES,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(data=st.data())
    def draw(data: st.DataObject) -> None:
        payload = data.draw(st.sampled_from(honest))
        for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
            where = paths(payload)
            if not where:
                break
            path = data.draw(st.sampled_from(where))
            how = data.draw(st.sampled_from(["remove", "replace", "replace"]))
            payload = mutated(payload, path, how, data.draw(hostile_values) if how == "replace" else None)
        encoding = data.draw(st.sampled_from(["encoded", "encoded", "encoded", "raw", "truncated"]))
        drawn.append(body_of(payload, encoding))

    draw()
    return drawn


async def held(bot: Bot) -> list[Any]:
    """What the HR system (the local provider's table) holds, and each request's state in leavebot."""
    requests = await bot.service.deps.store.requests_of(slack_user_id=ALICE, since=date(2000, 1, 1))
    return sorted((r.id, r.status, r.booking_id) for r in requests)


async def test_two_thousand_signed_mutations_never_answer_5xx_nor_write_to_the_hr_system(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = await submitted_request(bot)
    await bot.drain()
    before, writes_before = await held(bot), sum(bot.provider.calls.values())
    honest = honest_payloads(request_id, bot.response_url("fuzz"))
    statuses: Counter[int] = Counter()
    for body, json_body in cases(honest):
        response = await bot.post(body, json_body=json_body)
        statuses[response.status_code] += 1
        assert response.status_code < 500, f"{response.status_code} for {body[:300]}"
    await bot.drain()
    assert sum(statuses.values()) == CASES
    assert sum(bot.provider.calls.values()) == writes_before, bot.provider.calls
    assert await held(bot) == before
    # Refused at the edge or answered in plain words: no listener failed half-way on any of them.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    FIGURES.update(tried=CASES, refused=sum(n for status, n in statuses.items() if status >= 400))
    print("fuzz answers by status:", dict(sorted(statuses.items())))
