"""The app on a provider's fake, as the per-provider end-to-end tests drive it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from conftest import ALICE, Bot

from bot.store.tables import LeaveRequest
from bot.views import ids
from helpers.cards import button_value, preview_value

F = TypeVar("F")


@dataclass
class ProviderBot(Bot, Generic[F]):
    """The app on one provider, and that provider's fake."""

    fake: F


async def submitted(bot: Bot, text: str) -> LeaveRequest:
    """Alice types a request and presses Submit; returns it once its (first) approval card is out."""
    preview = await bot.command(text)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="submit")
    [card] = await bot.slack.wait_for("chat.postMessage")
    request = await bot.service.deps.store.request(
        request_id=int(button_value(card.args["blocks"], ids.APPROVE))
    )
    assert request is not None
    return request


async def decline_in_the_modal(bot: Bot, reason: str, *, user: str) -> None:
    """Type ``reason`` into the decline modal a Decline click opened, and submit it."""
    [opened] = await bot.slack.wait_for("views.open")
    values = {ids.DECLINE_REASON: {ids.DECLINE_REASON: {"type": "plain_text_input", "value": reason}}}
    await bot.submit_view(
        ids.DECLINE_MODAL, values, user=user, private_metadata=opened.args["view"]["private_metadata"]
    )


def dms_to(bot: Bot, user: str) -> list[str]:
    """Texts of the messages the bot sent to a user's DM."""
    return [c.args["text"] for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == user]


async def has_dm(bot: Bot, user: str, words: str) -> bool:
    """Whether the bot sent ``user`` a DM containing ``words``."""
    return any(words in t for t in dms_to(bot, user))
