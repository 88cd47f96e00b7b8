"""The leave type is never put in silently: while the HR system's types can't be listed, the preview and the
modal say so, and the confirmation names the type the request went in as (or reads the one typed, once known).

End to end over real HTTP (signed slash commands, clicks and modal submissions into the served app, the fake
Slack), on the local provider with its leave types failing to list when the bot starts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import slack_requests as sr
from conftest import ALICE, APPROVERS, Bot, SpyProvider
from fakes.slack import FakeSlack
from helpers.cards import DAY, preview_value
from remote_bot import provider_bot
from test_change import dms_to, modal_values
from test_e2e import eventually

from bot.store import create_engine
from bot.views import ids
from providers.errors import ProviderUnavailable
from providers.local import LocalProvider

DOWN = ProviderUnavailable("leavebot answered 503", provider="local")


@pytest.fixture
async def typeless(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[Bot]:
    """leavebot on the local provider whose leave types fail the first two times they are listed (at start, then
    once more)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/leavebot.db")
    provider = SpyProvider(LocalProvider.Config(approvers=APPROVERS), engine=engine)
    provider.failures["leave_types"] = [DOWN, DOWN]
    async with provider_bot(provider, slack, tmp_path) as bot:
        yield bot
    await engine.dispose()


def notes(blocks: list[dict[str, Any]]) -> str:
    """The context lines of some blocks."""
    return " ".join(e.get("text", "") for b in blocks if b["type"] == "context" for e in b["elements"])


async def preview_while_typeless(bot: Bot, text: str) -> dict[str, Any]:
    """Alice types ``text`` while the types can't be listed: the preview, sent after the ack."""
    answer = await bot.command(text, hook="preview")
    assert answer.status_code == 200 and answer.content in (b"", b"{}")
    [preview] = await bot.slack.wait_for("hooks/preview")
    assert "couldn't be listed just now" in notes(preview.args["blocks"])
    return dict(preview.args)


async def test_a_type_typed_while_the_types_are_unknown_is_read_again_at_submit(typeless: Bot) -> None:
    """`/leave <day> sick` with no types known: the preview says the type can't be matched yet; at Submit (the
    types listed again) it goes in as Sick Leave, not the first type."""
    preview = await preview_while_typeless(typeless, f"{DAY.isoformat()} sick")
    await typeless.click(ids.SUBMIT, preview_value(preview), user=ALICE, hook="sent")
    [sent] = await typeless.slack.wait_for("hooks/sent")
    assert "waiting for" in sent.args["text"] and "went in as" not in sent.args["text"]
    [absence] = await typeless.provider.absences(DAY, DAY)
    assert absence.leave_type == "Sick Leave"


async def test_no_type_typed_goes_in_as_the_first_type_and_says_so(typeless: Bot) -> None:
    """`/leave <day>` with no types known: Submit names the type it went in as, and why."""
    preview = await preview_while_typeless(typeless, DAY.isoformat())
    await typeless.click(ids.SUBMIT, preview_value(preview), user=ALICE, hook="sent")
    [sent] = await typeless.slack.wait_for("hooks/sent")
    assert "went in as *Annual Leave*, the first of leavebot's types" in sent.args["text"]


async def test_types_still_unknown_at_submit_say_the_hr_default_is_used(typeless: Bot) -> None:
    """The types are still not listed at Submit: the confirmation says it went in as the HR system's default."""
    preview = await preview_while_typeless(typeless, DAY.isoformat())
    typeless.provider.failures["leave_types"] = [DOWN, DOWN]
    await typeless.click(ids.SUBMIT, preview_value(preview), user=ALICE, hook="sent")
    [sent] = await typeless.slack.wait_for("hooks/sent")
    assert "couldn't be listed just now, so it went in as leavebot's default type" in sent.args["text"]
    [absence] = await typeless.provider.absences(DAY, DAY)
    assert absence.leave_type is None


async def test_a_modal_opened_without_types_says_so_and_the_dm_names_the_type(typeless: Bot) -> None:
    """`/leave` while the types can't be listed: the modal says why it has no type picker; the DM after
    submitting it names the type used."""
    typeless.provider.failures["leave_types"] = [DOWN]
    await typeless.command("")
    [opened] = await typeless.slack.wait_for("views.open")
    view = opened.args["view"]
    assert ids.LEAVE_TYPE not in json.dumps(view) and "couldn't be listed" in notes(view["blocks"])
    payload = sr.view_submission(
        user_id=ALICE, callback_id=ids.REQUEST_MODAL, values=modal_values(DAY, DAY), view_id="V0TYPELESS"
    )
    payload["view"]["blocks"] = view["blocks"]  # as Slack sends them back
    await typeless.post(sr.interactive(payload))
    await eventually(lambda: bool(dms_to(typeless, ALICE)))
    [told] = dms_to(typeless, ALICE)
    assert "went in as *Annual Leave*" in told


async def test_with_the_types_known_nothing_is_added(bot: Bot) -> None:
    """The usual case: the preview is in the ack, with no note about types, and the confirmation names none."""
    preview = await bot.command(DAY.isoformat())
    assert "couldn't be listed" not in json.dumps(preview.json())
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="sent")
    [sent] = await bot.slack.wait_for("hooks/sent")
    assert "went in as" not in sent.args["text"]
