"""The request modal over real HTTP: its layout follows the part of the day chosen (a dispatched choice,
then views.update on the fake Slack), and a submission whose fields disagree is answered with an inline
error on the field to fix, never booked with part of what was entered dropped."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import slack_requests as sr
from conftest import ALICE, Bot
from helpers.cards import button_value, submitted_request

from bot.views import ids

DAY = date.today() + timedelta(days=30)


def block_ids(view: dict[str, Any]) -> list[str]:
    """The block ids of a view's blocks, in order (blocks without one left out)."""
    return [b["block_id"] for b in view["blocks"] if "block_id" in b]


def state(
    *,
    part: str = "AM",
    end_part: str | None = "PM",
    last: date | None = DAY,
    times: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """The request modal's state as Slack sends it: only the fields given."""
    values: dict[str, Any] = {
        ids.START_DATE: {ids.START_DATE: {"type": "datepicker", "selected_date": DAY.isoformat()}},
        ids.START_PART: {ids.START_PART: {"type": "static_select", "selected_option": {"value": part}}},
        ids.REASON: {ids.REASON: {"type": "plain_text_input", "value": "the dentist"}},
    }
    if last is not None:
        values[ids.END_DATE] = {ids.END_DATE: {"type": "datepicker", "selected_date": last.isoformat()}}
    if end_part is not None:
        values[ids.END_PART] = {
            ids.END_PART: {"type": "static_select", "selected_option": {"value": end_part}}
        }
    for block_id, chosen in zip((ids.START_TIME, ids.END_TIME), times, strict=True):
        if chosen is not None:
            values[block_id] = {block_id: {"type": "timepicker", "selected_time": chosen}}
    return values


async def open_modal(bot: Bot) -> dict[str, Any]:
    """Alice types `/leave`; the modal as the fake Slack holds it (its id and hash)."""
    await bot.command("")
    await bot.slack.wait_for("views.open")
    return next(v for v in bot.slack.views.values() if v["callback_id"] == ids.REQUEST_MODAL)


async def choose(bot: Bot, view: dict[str, Any], values: dict[str, Any], part: str) -> dict[str, Any]:
    """Alice picks ``part`` under Starting; the view leavebot sent with views.update."""
    before = len(bot.slack.calls_to("views.update"))
    payload = sr.modal_choice(
        user_id=ALICE, view=view, values=values, action_id=ids.START_PART, selected=part
    )
    response = await bot.post(sr.interactive(payload))
    assert response.status_code == 200
    updates = await bot.slack.wait_for("views.update", count=before + 1)
    update = updates[-1]
    assert update.args["view_id"] == view["id"] and update.args["hash"] == view["hash"]
    return dict(bot.slack.views[view["id"]])


async def test_choosing_hours_shows_the_time_pickers_and_a_whole_day_shows_the_last_day(bot: Bot) -> None:
    """The modal opens without time pickers; "At a time (hours)" swaps the last day and ending for From / To
    (views.update of the same view), and "From the morning" swaps them back: nothing shown is ignored."""
    view = await open_modal(bot)
    assert block_ids(view)[:4] == [ids.START_DATE, ids.START_PART, ids.END_DATE, ids.END_PART]
    assert ids.START_TIME not in block_ids(view)
    starting = next(b for b in view["blocks"] if b.get("block_id") == ids.START_PART)
    assert starting["dispatch_action"] is True

    hourly = await choose(bot, view, state(part="HOURS"), "HOURS")

    assert block_ids(hourly)[:4] == [ids.START_DATE, ids.START_PART, ids.START_TIME, ids.END_TIME]
    assert ids.END_DATE not in block_ids(hourly) and ids.END_PART not in block_ids(hourly)
    times = [b for b in hourly["blocks"] if b.get("block_id") in (ids.START_TIME, ids.END_TIME)]
    assert all(b["optional"] is False for b in times)  # Slack itself asks for both
    assert hourly["callback_id"] == ids.REQUEST_MODAL and "the dentist" in json.dumps(hourly)

    whole = await choose(bot, hourly, state(part="AM", last=None, end_part=None), "AM")

    assert block_ids(whole)[:4] == [ids.START_DATE, ids.START_PART, ids.END_DATE, ids.END_PART]
    assert ids.START_TIME not in block_ids(whole)


async def test_hours_entered_book_an_hourly_request(bot: Bot) -> None:
    """14:00–16:00 under "At a time (hours)" books those two hours, not the whole day."""
    await open_modal(bot)
    values = state(part="HOURS", end_part=None, last=None, times=("14:00", "16:00"))

    answer = await bot.submit_view(ids.REQUEST_MODAL, values, user=ALICE, view_id="V0HOURS")

    assert answer.status_code == 200 and answer.content in (b"", b"{}")
    calls = await bot.slack.wait_for("chat.postMessage", count=3)
    assert any(c.args["channel"] == ALICE and "14:00–16:00" in c.args["text"] for c in calls)
    [absence] = await bot.provider.absences(DAY, DAY)
    assert (absence.start, absence.end) == (14 * 60, 16 * 60)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        # Times left from an older layout while a whole day is chosen: booked as a day, they'd be dropped.
        (state(part="AM", times=("14:00", "16:00")), ids.START_PART, "14:00–16:00"),
        (state(part="HOURS", end_part=None, last=None, times=("14:00", None)), ids.END_TIME, "ends"),
        (state(part="HOURS", end_part=None, last=None, times=(None, "16:00")), ids.START_TIME, "starts"),
        (
            state(part="HOURS", end_part=None, last=None, times=("16:00", "14:00")),
            ids.END_TIME,
            "after 16:00",
        ),
        (
            state(part="HOURS", end_part=None, last=DAY + timedelta(days=2), times=("09:00", "12:00")),
            ids.END_DATE,
            "one day",
        ),
        (state(part="PM", end_part="AM"), ids.END_PART, "end of the day"),
        (state(last=DAY - timedelta(days=1)), ids.END_DATE, "before the start date"),
    ],
    ids=[
        "times-for-a-day",
        "no-end-time",
        "no-start-time",
        "end-before-start",
        "hours-on-days",
        "pm-to-am",
        "ends-before",
    ],
)
async def test_fields_that_disagree_are_an_inline_error_on_the_field_to_fix(
    bot: Bot, values: dict[str, Any], field: str, words: str
) -> None:
    """Each inconsistency is answered with response_action=errors naming the one field to fix; nothing is sent."""
    await open_modal(bot)

    answer = await bot.submit_view(ids.REQUEST_MODAL, values, user=ALICE)

    body = answer.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert words in body["errors"][field]
    await bot.drain()
    assert bot.provider.calls["submit"] == 0


async def test_edit_of_a_typed_hourly_request_opens_the_hours_layout(bot: Bot) -> None:
    """Edit on the preview of `/leave <day> 9am-12pm` opens the modal with From 09:00 and To 12:00 shown."""
    blocks = (await bot.command(f"{DAY.isoformat()} 9am-12pm")).json()["blocks"]

    await bot.click(ids.EDIT, button_value(blocks, ids.EDIT), user=ALICE, hook="edit")

    [opened] = await bot.slack.wait_for("views.open")
    view = opened.args["view"]
    assert ids.END_DATE not in block_ids(view)
    times = {
        b["block_id"]: b["element"]["initial_time"]
        for b in view["blocks"]
        if "initial_time" in b.get("element", {})
    }
    assert times == {ids.START_TIME: "09:00", ids.END_TIME: "12:00"}


async def test_a_change_modal_laid_out_again_still_changes_that_request(bot: Bot) -> None:
    """Choosing hours in the Change dates modal keeps the request it replaces (private_metadata) and its title."""
    request_id = await submitted_request(bot)
    await bot.command("mine", hook="mine")
    await bot.slack.wait_for("hooks/mine")
    await bot.click(ids.MINE_CHANGE, str(request_id), user=ALICE, hook="change")
    await bot.slack.wait_for("views.open")
    view = next(v for v in bot.slack.views.values() if v["callback_id"] == ids.REQUEST_MODAL)
    assert view["private_metadata"] == str(request_id)

    hourly = await choose(bot, view, state(part="HOURS"), "HOURS")

    assert hourly["private_metadata"] == str(request_id) and hourly["title"]["text"] == "Change leave"
    assert ids.START_TIME in block_ids(hourly)
