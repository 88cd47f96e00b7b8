"""Reading the bot's cards and buttons, and Alice's request as the tests make it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from conftest import ALICE, Bot

from bot.views import ids

DAY = date.today() + timedelta(days=30)


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    """The value of the button with ``action_id`` in some blocks."""
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {blocks}")


def preview_value(response_json: dict[str, Any]) -> str:
    """The Submit button's value in a slash command's ack body."""
    return button_value(response_json["blocks"], ids.SUBMIT)


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    """Action ids of every button in some blocks."""
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def approval_cards(bot: Bot) -> list[Any]:
    """Every approval card posted so far."""
    posts = bot.slack.calls_to("chat.postMessage")
    return [c for c in posts if ids.APPROVE in buttons(c.args.get("blocks") or [])]


async def submitted_request(bot: Bot, text: str = f"{DAY.isoformat()} pm for the dentist") -> int:
    """Alice types a request and presses Submit; returns the request id once both new cards are out (and
    the Submit's work is over: where each card is, is stored)."""
    before = len(approval_cards(bot))
    preview = await bot.command(text)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="submit")
    await bot.drain()
    for _ in range(250):
        if len(cards := approval_cards(bot)) >= before + 2:
            return int(button_value(cards[-1].args["blocks"], ids.APPROVE))
        await asyncio.sleep(0.02)
    raise AssertionError(f"no approval cards; Slack saw {[c.method for c in bot.slack.calls]}")
