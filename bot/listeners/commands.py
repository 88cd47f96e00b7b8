"""`/leave`: the modal, a typed request's preview (or the command a near miss meant), and the subcommands
`who`, `mine`, `cancel`, `balance`, `delegate` and `help` (``bot.views.help.SUBCOMMANDS``)."""

from __future__ import annotations

import asyncio
from datetime import date
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.listeners import ListenerDeps
from bot.parsing import ParseError, parse_request
from bot.services import who as whos_off
from bot.services.calendar import DigestPlan
from bot.services.previews import Typist
from bot.services.who import MENTION
from bot.views import modal
from bot.views import reminders as reminder_views
from bot.views import requests as views
from bot.views.help import HELP, near_miss, suggestion
from providers.errors import ProviderError
from providers.models import Draft

MODAL_DATA_BUDGET = 1.5  # seconds; the trigger id expires 3 s after Slack sent it


def register(app: AsyncApp, deps: ListenerDeps) -> None:
    """Attach the `/leave` command."""

    @app.command("/leave")
    async def leave(
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        text = asking_who(unescape(command.get("text") or "").strip())
        word = text.split()[0].lower() if text else ""
        if word == "help":
            await ack(text=HELP, response_type="ephemeral")
        elif answer := ANSWERS.get(word):
            await ack()
            work = partial(answer, respond, deps, text.split()[1:], command["user_id"])
            deps.after_ack(context, command, client, work)
        elif word:
            previews, user_id = deps.services.previews, command.get("user_id")
            typist = previews.typist_known(user_id)
            if user_id and not previews.ready(text, typist, country=deps.settings.digest_country):
                await ack()  # the locale (read once from Slack) or the leave types are needed first
                work = partial(preview_later, respond, deps, text, user_id)
                deps.after_ack(context, command, client, work, urgent=True)
            else:
                await preview(ack, deps, text, typist)
        else:
            await ack()
            work = partial(
                open_request_modal,
                client,
                deps,
                trigger_id=command["trigger_id"],
                user_id=command.get("user_id"),
            )
            deps.after_ack(context, command, client, work, urgent=True)


async def open_request_modal(
    client: AsyncWebClient,
    deps: ListenerDeps,
    *,
    trigger_id: str,
    user_id: str | None,
    initial: Draft | None = None,
    replaces: int | None = None,
) -> None:
    """Open the request modal at once (changing request ``replaces``); leave types are only waited for briefly."""
    note = None
    try:
        leave_types = await asyncio.wait_for(deps.services.requests.leave_types(), MODAL_DATA_BUDGET)
    except (TimeoutError, ProviderError):
        leave_types = []  # better a modal without a type picker than no modal at all; it says why
        note = views.types_unknown_line(deps.services.deps.provider.display_name)
    today = await deps.services.deps.today_for(user_id)
    view = modal.request_modal(leave_types, initial=initial, today=today, replaces=replaces, note=note)
    await client.views_open(trigger_id=trigger_id, view=view)


async def preview(ack: AsyncAck | AsyncRespond, deps: ListenerDeps, text: str, typist: Typist) -> None:
    """Parse typed text as the typist means it (their today and locale) and answer with the preview,
    or with what was not understood."""
    try:
        # DIGEST_COUNTRY: whose `thanksgiving` or `boxing day`
        blocks = deps.services.previews.preview(text, typist, country=deps.settings.digest_country)
    except ParseError as exc:
        meant = near_miss(text)  # "cancle friday": the command, rather than why it is no date
        await ack(text=suggestion(meant) if meant else str(exc), response_type="ephemeral")
        return
    await ack(text="Here's your leave request", blocks=blocks, response_type="ephemeral")


async def preview_later(respond: AsyncRespond, deps: ListenerDeps, text: str, user_id: str) -> None:
    """The preview after the ack, once the typist's locale (and the leave types) could be learnt."""
    await preview(respond, deps, text, await deps.services.previews.typist(user_id))


async def who(respond: AsyncRespond, deps: ListenerDeps, words: list[str], user_id: str | None) -> None:
    """`/leave who [tomorrow | friday | next week | @someone]`, answered privately through the response_url."""
    plan = DigestPlan.from_settings(deps.settings)
    today = await deps.services.deps.today_for(user_id)
    for message in await whos_off.who(deps.services.deps, plan, " ".join(words), today=today):
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


async def mine(respond: AsyncRespond, deps: ListenerDeps, words: list[str], user_id: str) -> None:
    """`/leave mine`: your upcoming pending and approved leave, each with Cancel, answered privately."""
    upcoming = await deps.services.homes.mine_of(user_id, today=await deps.services.deps.today_for(user_id))
    text, blocks = reminder_views.mine_message(upcoming)
    await respond(text=text, blocks=blocks, response_type="ephemeral")


async def cancel(respond: AsyncRespond, deps: ListenerDeps, words: list[str], user_id: str) -> None:
    """`/leave cancel [<day or days> | #<request>]`: the matching leave of one's own, each with its Cancel button."""
    today, homes = await deps.services.deps.today_for(user_id), deps.services.homes
    asked = " ".join(words)
    number = asked.removeprefix("#")
    request = await homes.own_request(user_id, int(number)) if number.isdigit() and len(number) < 18 else None
    if not words:
        text, blocks = reminder_views.mine_message(
            await homes.mine_of(user_id, today=today), heading="Which leave do you want to cancel?"
        )
    elif request is not None or asked.startswith("#"):
        none = f"Request #{number} is not one of yours that is still pending or approved. `/leave mine` lists yours."
        text, blocks = reminder_views.mine_message(
            [request] if request else [], heading="Cancel it?", none=none
        )
    else:
        start, end = read_days(asked, today)
        days = reminder_views.day(start) + (f" – {reminder_views.day(end)}" if end != start else "")
        matches = await homes.on_days(user_id, today=today, start=start, end=end)
        text, blocks = reminder_views.mine_message(
            matches, heading=f"Your leave on {days}", none=reminder_views.cancel_none(days)
        )
    await respond(text=text, blocks=blocks, response_type="ephemeral")


def read_days(text: str, today: date) -> tuple[date, date]:
    """The first and last day of '24 dec', 'friday', 'mon to wed'; UserError naming what is wrong."""
    try:
        draft = parse_request(text, today=today, leave_types=[])
    except ParseError:
        raise UserError(
            f"I couldn't read “{text}” as a day. Try `/leave cancel friday`, `/leave cancel 24 dec` "
            "or `/leave cancel #12` (a request's number), or `/leave mine` for all of yours."
        ) from None
    return draft.start_date, draft.end_date


async def balance(respond: AsyncRespond, deps: ListenerDeps, words: list[str], user_id: str) -> None:
    """`/leave balance`: leave left, from the HR system where it keeps balances, answered privately."""
    await respond(text=await deps.services.homes.balance_text(user_id), response_type="ephemeral")


async def delegate(respond: AsyncRespond, deps: ListenerDeps, words: list[str], user_id: str) -> None:
    """`/leave delegate @someone [until <day>]`, `/leave delegate off`, or `/leave delegate` to see yours."""
    today = await deps.services.deps.today_for(user_id)
    if not words:
        answer = await deps.services.delegates.current_delegate(approver=user_id, today=today)
    elif words[0].lower() in ("off", "none", "stop"):
        answer = await deps.services.delegates.set_delegate(
            approver=user_id, delegate=None, until=None, today=today
        )
    else:
        someone, until = read_delegation(words, today)
        answer = await deps.services.delegates.set_delegate(
            approver=user_id, delegate=someone, until=until, today=today
        )
    await respond(text=answer, response_type="ephemeral")


def read_delegation(words: list[str], today: date) -> tuple[str, date | None]:
    """'<@U0CAROL|carol> until dec 24' as ('U0CAROL', 2026-12-24); UserError naming what is wrong."""
    example = "Try `/leave delegate @someone until 2026-12-24`, or `/leave delegate off`."
    mention = MENTION.match(words[0])
    if mention is None:
        raise UserError(f"Name your delegate with an @mention. {example}")
    rest = words[1:]
    if rest and rest[0].lower() in ("until", "till", "to"):
        rest = rest[1:]
    if not rest:
        return mention.group(1), None
    try:
        draft = parse_request(" ".join(rest), today=today, leave_types=[])
    except ParseError:
        raise UserError(f"I couldn't read “{' '.join(rest)}” as a day. {example}") from None
    return mention.group(1), draft.end_date


ANSWERS = {"who": who, "mine": mine, "cancel": cancel, "balance": balance, "delegate": delegate}


def asking_who(text: str) -> str:
    """ "who's off friday" as "who off friday": a question asked with the contraction is still `/leave who`."""
    first, _, rest = text.partition(" ")
    return f"who {rest}".strip() if first.lower() in ("who's", "who’s", "whos") else text


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in command text (mentions stay as <@U123|name>)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
