"""The subcommands people try, over real HTTP against the fake Slack: `/leave cancel <day or request>`,
`/leave balance` (from Timetastic's fake, and where there are no balances), and near misses answered
with the command they meant rather than a parse error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ALICE, Bot
from fakes.slack import FakeSlack
from fakes.timetastic import TOKEN, FakeTimetastic
from helpers.cards import submitted_request
from remote_bot import provider_bot

from bot.domain import RequestState
from bot.views import ids
from bot.views.reminders import balance_text
from providers.timetastic import TimetasticProvider

DAY = date.today() + timedelta(days=30)


async def answer(bot: Bot, text: str, hook: str) -> dict[str, Any]:
    """Alice types `/leave <text>`; the one answer sent to its response_url."""
    await bot.command(text, hook=hook)
    [told] = await bot.slack.wait_for(f"hooks/{hook}")
    return told.args


def cancel_buttons(message: dict[str, Any]) -> list[str]:
    """The request ids on a message's Cancel buttons."""
    blocks = message.get("blocks") or []
    return [
        b["accessory"]["value"] for b in blocks if b.get("accessory", {}).get("action_id") == ids.MINE_CANCEL
    ]


async def test_cancel_a_day_shows_that_leave_with_its_cancel_button_which_cancels_it(bot: Bot) -> None:
    """`/leave cancel <day>` lists only Alice's leave touching that day; its Cancel withdraws it."""
    wanted = await submitted_request(bot, f"{DAY.isoformat()} pm")
    other = await submitted_request(bot, f"{(DAY + timedelta(days=3)).isoformat()}")

    told = await answer(bot, f"cancel {DAY.isoformat()}", "cancel")

    assert cancel_buttons(told) == [str(wanted)]
    assert f"{DAY:%a} {DAY.day} {DAY:%b}" in json.dumps(told["blocks"], ensure_ascii=False)
    await bot.click(ids.MINE_CANCEL, str(wanted), user=ALICE, hook="pressed")
    await bot.slack.wait_for("hooks/pressed")
    await bot.drain()
    store = bot.service.deps.store
    assert [(await store.request(request_id=i)).status for i in (wanted, other)] == [  # type: ignore[union-attr]
        RequestState.CANCELLED,
        RequestState.PENDING,
    ]


async def test_cancel_by_number_or_with_nothing_matching(bot: Bot) -> None:
    """`#<number>` finds that request of Alice's; a day with nothing says so; words that are no day say how."""
    request_id = await submitted_request(bot)

    by_number = await answer(bot, f"cancel #{request_id}", "number")
    nothing = await answer(bot, f"cancel {(DAY + timedelta(days=1)).isoformat()}", "nothing")
    unread = await answer(bot, "cancel whenever", "unread")

    assert cancel_buttons(by_number) == [str(request_id)]
    assert cancel_buttons(nothing) == [] and "no pending or approved leave on" in nothing["text"]
    assert "couldn't read “whenever” as a day" in unread["text"] and "/leave cancel #12" in unread["text"]


async def test_balance_without_an_hr_system_is_a_plain_sentence(bot: Bot) -> None:
    """The local provider keeps no balances: `/leave balance` says so, in one sentence."""
    told = await answer(bot, "balance", "balance")

    assert told["text"].startswith("leavebot keeps no leave balances")


def test_balance_elsewhere_names_the_hr_system_that_keeps_none() -> None:
    """An HR system without balances (When I Work) is named in the sentence."""
    text = balance_text(None, hr="When I Work", kept=False)
    assert text.startswith("When I Work doesn't keep leave balances")


@pytest.fixture
async def timetastic(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[Bot]:
    """leavebot on Timetastic's fake, which keeps balances (Alice's in hours)."""
    with FakeTimetastic() as fake:
        config = TimetasticProvider.Config(api_token=TOKEN, base_url=fake.url)  # type: ignore[call-arg]
        provider = TimetasticProvider(config, http=httpx.AsyncClient(timeout=10))
        async with provider_bot(provider, slack, tmp_path) as bot:
            yield bot


async def test_balance_comes_from_the_hr_system_that_keeps_it(timetastic: Bot) -> None:
    """On Timetastic `/leave balance` answers Alice's allowance remaining, in its unit."""
    told = await answer(timetastic, "balance", "balance")

    assert told["text"] == "🏖️ You have 150 hours of leave left (from Timetastic)."


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("cancle friday", "/leave cancel friday"),
        ("balence", "/leave balance"),
        ("mien", "/leave mine"),
        ("hlep", "/leave help"),
        ("delagate <@U0BOB|bob> until friday", "/leave delegate <@U0BOB|bob> until friday"),
    ],
)
async def test_a_near_miss_suggests_the_command(bot: Bot, typed: str, meant: str) -> None:
    """A subcommand mistyped is answered in the ack with the command it meant, not a parse error."""
    response = await bot.command(typed)

    assert response.json()["text"].startswith(f"Did you mean `{meant}`?")
    assert bot.provider.calls["submit"] == 0


@pytest.mark.parametrize("typed", ["monday", "mon", "wed pm"])
async def test_a_day_close_to_a_subcommand_is_still_previewed(bot: Bot, typed: str) -> None:
    """Text that reads as a day ("monday", "mon") is previewed, never taken for a near miss of "mine"."""
    response = await bot.command(typed)

    body = response.json()
    assert "Did you mean" not in json.dumps(body) and body["blocks"][0]["text"]["text"].startswith("*Here's")


async def test_text_far_from_any_subcommand_keeps_its_parse_error(bot: Bot) -> None:
    """Words close to nothing get the parser's own explanation, as before."""
    response = await bot.command("the day after the party")

    assert "couldn't" in response.json()["text"] and "Did you mean" not in response.json()["text"]
