"""`/leave`: the modal, a typed request's preview, `who` and `help`."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.parsing import ParseError, parse_request
from bot.services import whos_off
from bot.services.whos_off import DigestPlan
from bot.views import requests as views
from bot.views.help import HELP
from providers.errors import ProviderError
from providers.models import Draft

MODAL_DATA_BUDGET = 1.5  # seconds; the trigger id expires 3 s after Slack sent it


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the `/leave` command."""

    @app.command("/leave")
    async def leave(
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        text = unescape(command.get("text") or "").strip()
        word = text.split()[0].lower() if text else ""
        if word == "help":
            await ack(text=HELP, response_type="ephemeral")
        elif word not in ("", "who"):
            await preview(ack, deps, text)
        elif word == "who":
            await ack()
            deps.after_ack(context, command, client, partial(who, respond, deps, text.split()[1:]))
        else:
            await ack()
            work = partial(open_request_modal, client, deps, trigger_id=command["trigger_id"])
            deps.after_ack(context, command, client, work, urgent=True)


async def open_request_modal(
    client: AsyncWebClient, deps: Deps, *, trigger_id: str, initial: Draft | None = None
) -> None:
    """Open the request modal at once; leave types are only waited for briefly."""
    try:
        leave_types = await asyncio.wait_for(deps.service.leave_types(), MODAL_DATA_BUDGET)
    except (TimeoutError, ProviderError):
        leave_types = []  # better a modal without a type picker than no modal at all
    view = views.request_modal(leave_types, initial=initial, today=deps.today())
    await client.views_open(trigger_id=trigger_id, view=view)


async def preview(ack: AsyncAck, deps: Deps, text: str) -> None:
    """Parse typed text and answer with the preview, or with what was not understood."""
    try:
        draft = parse_request(text, today=deps.today(), leave_types=deps.service.cached_leave_types())
    except ParseError as exc:
        await ack(text=str(exc), response_type="ephemeral")
        return
    await ack(
        text="Here's your leave request",
        blocks=views.preview(draft, uuid.uuid4().hex),
        response_type="ephemeral",
    )


async def who(respond: AsyncRespond, deps: Deps, words: list[str]) -> None:
    """`/leave who [tomorrow | friday | next week | @someone]`, answered privately through the response_url."""
    plan = DigestPlan.from_settings(deps.settings)
    for message in await whos_off.who(deps.service, plan, " ".join(words), today=deps.today()):
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in command text (mentions stay as <@U123|name>)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
