"""The approval card's context, end to end over real HTTP: what the request costs, the balance, who else
in the team is off and the team's limit, on the local provider and on Timetastic's fake."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ALICE, BOB, MALLORY, Bot
from fakes.slack import FakeSlack
from fakes.timetastic import DAVE, FakeTimetastic
from helpers.cards import approval_cards, button_value, preview_value, submitted_request
from remote_bot import provider_bot
from test_timetastic import connect

from bot.domain import CardContext, Colleague, Team
from bot.store.tables import LeaveRequest
from bot.views import ids
from bot.views.requests import approval_card
from bot.views.whos_off import message_chars
from providers.models import Draft, Status


def a_wednesday(after: date) -> date:
    """The first Wednesday after ``after`` that is no public holiday anywhere (Christmas, New Year)."""
    day = after + timedelta(days=(2 - after.weekday()) % 7 or 7)
    while (day.month, day.day) in ((12, 25), (12, 26), (1, 1)):
        day += timedelta(days=7)
    return day


WEDNESDAY = a_wednesday(date.today() + timedelta(days=30))


def card_text(blocks: list[dict[str, Any]]) -> str:
    """Every section's text of a card, one section a line."""
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def words(day: date) -> str:
    """'Wed 25 Nov', as cards write a day ('Wed 6 Jan 2027' outside the current year)."""
    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if day.year != date.today().year else "")


async def approved_leave(bot: Bot, day: date, user: str) -> None:
    """Book and approve a day off for a Slack user (the store then knows them)."""
    draft = Draft(start_date=day, end_date=day)
    submitted = await bot.service.requests.submit(draft=draft, key=f"card-{user}-{day}", slack_user_id=user)
    await bot.provider.approve(submitted.request.booking_id or "")


# -- the local provider -------------------------------------------------------------------------


async def test_card_counts_working_days_without_public_holidays_and_halves(bot: Bot) -> None:
    """Mon afternoon to Fri over Christmas (GB) takes 2.5 working days, naming the holidays not counted."""
    bot.service.deps.plan = dataclasses.replace(bot.service.deps.plan, country="GB")
    await submitted_request(bot, "2030-12-23 pm to 2030-12-27")
    text = card_text(approval_cards(bot)[-1].args["blocks"])
    assert "Mon 23 Dec 2030 (afternoon) – Fri 27 Dec 2030" in text  # not this year: with the year
    assert "*Takes:* 2.5 working days (Christmas Day, Boxing Day not counted)" in text


async def test_hourly_request_shows_the_hours_it_takes(bot: Bot) -> None:
    """An hourly booking is costed in hours, not days."""
    await submitted_request(bot, f"{WEDNESDAY.isoformat()} 9:00-11:30")
    assert "*Takes:* 2.5 hours" in card_text(approval_cards(bot)[-1].args["blocks"])


async def test_card_names_a_teammate_off_and_warns_over_max_off_per_team(bot: Bot) -> None:
    """Bob is off that Wednesday; with MAX_OFF_PER_TEAM=1 Alice's card names him and warns."""
    bot.service.deps.plan = dataclasses.replace(bot.service.deps.plan, max_off=1)
    await approved_leave(bot, WEDNESDAY, BOB)
    await approved_leave(bot, WEDNESDAY + timedelta(days=7), MALLORY)  # another week: not named
    await submitted_request(bot, WEDNESDAY.isoformat())
    text = card_text(approval_cards(bot)[-1].args["blocks"])
    assert f"*Also off:*\n• <@{BOB}>: {words(WEDNESDAY)}" in text
    assert MALLORY not in text
    assert f"⚠️ Approving puts 2 people off on {words(WEDNESDAY)}: the limit is 1." in text


async def test_without_a_limit_there_is_no_warning(bot: Bot) -> None:
    """The same day off without MAX_OFF_PER_TEAM names Bob and warns of nothing."""
    await approved_leave(bot, WEDNESDAY, BOB)
    await submitted_request(bot, WEDNESDAY.isoformat())
    text = card_text(approval_cards(bot)[-1].args["blocks"])
    assert f"<@{BOB}>" in text and "⚠️" not in text


async def test_decided_card_shows_the_outcome_without_asking_the_provider_again(bot: Bot) -> None:
    """Once approved, the refreshed card drops the context (its balance would be out of date) and the buttons."""
    request_id = await submitted_request(bot, WEDNESDAY.isoformat())
    await bot.slack.wait_for("hooks/submit")  # every card is remembered, so every card is updated
    await bot.click(ids.APPROVE, str(request_id), user=BOB)
    [update, *_] = await bot.slack.wait_for("chat.update", 2)
    text = card_text(update.args["blocks"])
    assert "Approved" in str(update.args["blocks"]) and "*Takes:*" not in text


def test_long_list_of_colleagues_is_capped_within_slack_limits() -> None:
    """Forty colleagues with very long names: ten are named, then "and 30 others"; each section stays under 3,000."""
    request = LeaveRequest(
        id=7,
        idempotency_key="k",
        provider="local",
        status=Status.PENDING,
        requester_slack_id=ALICE,
        requester_person_id="alice",
        requester_name="Alice",
        start_date=WEDNESDAY,
        end_date=WEDNESDAY,
        start_part="AM",
        end_part="PM",
    )
    colleagues = [Colleague("<b>" * 200 + str(i), words(WEDNESDAY), pending=i % 2 == 0) for i in range(40)]
    blocks = approval_card(request, CardContext(team=Team("R&D", colleagues)))
    text = card_text(blocks)
    assert "*Also off in R&amp;D:*" in text and "…and 30 others" in text
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert message_chars(blocks) < 12_000


# -- Timetastic: departments, maxOff, balances ---------------------------------------------------


@pytest.fixture
async def timetastic(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[tuple[Bot, FakeTimetastic]]:
    """leavebot on Timetastic's fake (Mallory and Dave in Sales, whose maxOff is 1)."""
    with FakeTimetastic() as fake:
        async with provider_bot(connect(fake), slack, tmp_path) as bot:
            yield bot, fake


async def requested(bot: Bot, text: str, user: str) -> LeaveRequest:
    """Someone types a request and presses Submit; the request, once its card is out and stored."""
    preview = await bot.command(text, user=user)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=user, hook="submit")
    await bot.slack.wait_for("hooks/submit")  # answered once every card is posted and remembered
    [card] = bot.slack.calls_to("chat.postMessage")
    request = await bot.service.deps.store.request(
        request_id=int(button_value(card.args["blocks"], ids.APPROVE))
    )
    assert request is not None
    return request


async def test_card_shows_balance_before_and_after(timetastic: tuple[Bot, FakeTimetastic]) -> None:
    """Mallory (20.5 days left) asks for a Wednesday: 1 working day, 19.5 days after; nobody else in Sales is off."""
    bot, _ = timetastic
    await requested(bot, WEDNESDAY.isoformat(), MALLORY)
    text = card_text(bot.slack.calls_to("chat.postMessage")[0].args["blocks"])
    assert "*Takes:* 1 working day" in text
    assert "*Balance:* 20.5 days now, 19.5 days after" in text
    assert "*Also off in Sales:* nobody" in text and "⚠️" not in text


async def test_card_warns_over_the_departments_max_off(timetastic: tuple[Bot, FakeTimetastic]) -> None:
    """Dave is booked in (an admin's override) after Mallory asked: the refreshed card names him and warns of Sales' maxOff."""
    bot, fake = timetastic
    request = await requested(bot, WEDNESDAY.isoformat(), MALLORY)
    fake.add_holiday(DAVE, WEDNESDAY - timedelta(days=1), WEDNESDAY)
    await bot.service.cards.refresh(request)
    [update] = await bot.slack.wait_for("chat.update")
    text = card_text(update.args["blocks"])
    assert (
        f"*Also off in Sales:*\n• Dave Admin: {words(WEDNESDAY - timedelta(days=1))} – {words(WEDNESDAY)}"
        in text
    )
    assert f"⚠️ Approving puts 2 people of Sales off on {words(WEDNESDAY)}: the limit is 1." in text
    assert ids.APPROVE in str(update.args["blocks"])  # still pending: still decidable


async def test_card_goes_out_when_the_provider_cannot_tell_the_team(
    timetastic: tuple[Bot, FakeTimetastic], caplog: pytest.LogCaptureFixture
) -> None:
    """Timetastic's departments unreadable: Alice's card still goes out, without the team line, with a warning logged.

    Her allowance is in hours and the request in days: the balance shows what is left, no "after".
    """
    bot, fake = timetastic
    fake.departments[1]["maxOff"] = "lots"  # Sales: an answer leavebot cannot read (Alice is in Engineering)
    await requested(bot, WEDNESDAY.isoformat(), ALICE)
    text = card_text(bot.slack.calls_to("chat.postMessage")[0].args["blocks"])
    assert "*Takes:* 1 working day" in text
    assert "*Balance:* 150 hours now" in text and "after" not in text
    assert "Also off" not in text
    assert "could not read who else is off" in caplog.text
