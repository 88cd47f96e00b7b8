"""Button clicks: the preview's Submit / Edit / Cancel, the approval card's Approve / Decline and `/leave mine`'s Cancel / Change."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import RequestState
from bot.errors import friendly
from bot.listeners import ListenerDeps
from bot.listeners.commands import open_request_modal
from bot.services.requests import Changed, Decided, Submitted
from bot.views import ids
from bot.views import requests as views
from bot.views.reminders import mine_message
from providers.models import Decision


def register(app: AsyncApp, deps: ListenerDeps) -> None:
    """Attach the button listeners."""

    app.action(ids.SUBMIT)(deps.durable("submit_preview", send))

    @app.action(ids.EDIT)
    async def edit(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        deps.after_ack(
            context, body, client, partial(reopen, deps, body, action, client, respond), urgent=True
        )

    @app.action(ids.DISCARD)
    async def discard(
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        deps.after_ack(context, body, client, partial(respond, delete_original=True))

    app.action(ids.APPROVE)(deps.durable("approve", approved))

    @app.action(ids.DECLINE)
    async def decline(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        work = partial(ask_decline_reason, deps, body, action, client, respond)
        deps.after_ack(context, body, client, work, urgent=True)

    app.action(ids.MINE_CANCEL)(deps.durable("cancel_mine", cancel_from_list))

    @app.action(ids.MINE_CHANGE)
    async def change_mine(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        work = partial(change_from_list, deps, body, action, client)
        deps.after_ack(context, body, client, work, urgent=True)


async def change_from_list(
    deps: ListenerDeps, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
) -> None:
    """Open the request modal pre-filled with one's own pending request, to replace it."""
    request_id, user_id = int(action["value"]), body["user"]["id"]
    draft = await deps.services.requests.draft_to_change(request_id=request_id, slack_user_id=user_id)
    await open_request_modal(
        client, deps, trigger_id=body["trigger_id"], user_id=user_id, initial=draft, replaces=request_id
    )


def clicked(body: dict[str, Any]) -> tuple[dict[str, Any], AsyncRespond]:
    """The button a click pressed, and the reply to the message it was on: all from the click's body."""
    return body["actions"][0], AsyncRespond(response_url=body.get("response_url"))


async def cancel_from_list(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Cancel one's own leave from `/leave mine`, then show the list again with what happened on top."""
    (action, respond), user_id = clicked(body), body["user"]["id"]
    result = await deps.services.requests.cancel(request_id=int(action["value"]), slack_user_id=user_id)
    upcoming = await deps.services.homes.mine_of(user_id, today=await deps.services.deps.today_for(user_id))
    text, blocks = mine_message(upcoming, notice=cancelled_text(result))
    await respond(text=text, blocks=blocks, replace_original=True)


def cancelled_text(result: Decided) -> str:
    """What the requester is told after pressing Cancel on their leave."""
    request, when = result.request, result.request.span.describe()
    if result.acted:
        return decided_text(result) or f"🚫 Your leave for {when} is cancelled; your approvers were told."
    if request.status == RequestState.DECIDING:
        return f"Your leave for {when} is being decided right now; try again in a moment."
    return f"Your leave for {when} is {request.status} already: there is nothing to cancel."


async def send(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Submit the previewed request and replace the preview with the outcome."""
    action, respond = clicked(body)
    result = await deps.services.previews.submit(
        action["value"], slack_user_id=body["user"]["id"], country=deps.settings.digest_country
    )
    await respond(text=submitted_text(result), replace_original=True)


async def reopen(
    deps: ListenerDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Open the modal pre-filled with the preview, and remove the preview."""
    _, draft = views.read_preview_value(action["value"])
    await open_request_modal(
        client, deps, trigger_id=body["trigger_id"], user_id=body["user"]["id"], initial=draft
    )
    await respond(delete_original=True)


async def approved(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Approve once; tell a late clicker who decided."""
    action, respond = clicked(body)
    result = await deps.services.requests.decide(
        request_id=int(action["value"]), slack_user_id=body["user"]["id"], decision=Decision.APPROVE
    )
    if answer := decided_text(result):
        await respond(text=answer, response_type="ephemeral", replace_original=False)


async def ask_decline_reason(
    deps: ListenerDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Open the decline modal for a real approver of a still-pending request."""
    request = await deps.services.requests.authorise(
        request_id=int(action["value"]), slack_user_id=body["user"]["id"]
    )
    if request.status != RequestState.PENDING:
        await respond(text=already_decided(request), response_type="ephemeral", replace_original=False)
        return
    await client.views_open(trigger_id=body["trigger_id"], view=views.decline_modal(request))


def submitted_text(result: Submitted) -> str:
    """What the requester sees once their request was sent."""
    text = _submitted_text(result)
    return f"{text}\n{result.type_note}" if result.type_note and not result.duplicate else text


def _submitted_text(result: Submitted) -> str:
    when = result.request.span.describe(month_first=result.month_first)
    if result.queued:
        return (
            f"⏳ The HR system isn't answering right now. Your leave for {when} is saved and will be sent "
            "automatically when it is back; I'll message you then."
        )
    if result.request.status == RequestState.SUBMITTING:
        return f"Your leave for {when} is being sent already; you'll see the result here in a moment."
    if result.request.status == RequestState.PENDING and not result.asked:
        return views.not_asked_yet(
            result.request, held=result.held, hr=result.hr, month_first=result.month_first
        )
    again = " (you had sent this already)" if result.duplicate else ""
    return views.asked_text(
        result.request,
        result.approvers,
        no=result.no_approver,
        held=result.held,
        hr=result.hr,
        again=again,
        month_first=result.month_first,
    )


def changed_text(result: Changed) -> str:
    """What the requester is told, in one message, after changing the dates of a pending request."""
    sent, was = submitted_text(result.new), result.old.span.describe()
    if result.new.duplicate:
        return sent
    if result.new.queued:
        return f"{sent} Until then your leave for {was} stays as it is: cancel it once the new dates are in."
    if result.refused is not None:
        return (
            f"{sent}\n⚠️ But your leave for {was} could not be withdrawn ({friendly(result.refused)}), "
            "so it still stands: cancel it from `/leave mine`."
        )
    withdrawn = result.withdrawn
    if withdrawn is None:  # the new request was not taken up: nothing to replace
        return f"{sent} Your leave for {was} stays as it is."
    if not withdrawn.acted:
        return (
            f"{sent}\n⚠️ Your leave for {was} is {result.old.status} meanwhile, so it still stands: "
            "cancel it from `/leave mine` if you no longer need it."
        )
    if withdrawn.queued:
        return f"{sent}\n⏳ Your leave for {was} will be withdrawn as soon as the HR system answers again."
    return f"{sent}\n🔁 It replaces your leave for {was}, now withdrawn."


def decided_text(result: Decided) -> str | None:
    """What the one who decided (or cancelled) is told, if anything beyond the updated cards."""
    if result.queued:
        return (
            "⏳ The HR system isn't answering right now. This is saved and will be sent automatically "
            "when it is back; everyone concerned will be told then."
        )
    return None if result.acted else already_decided(result.request)


def already_decided(request: Any) -> str:
    """Told to an approver who clicks a request that is no longer pending."""
    if request.status == RequestState.DECIDING:
        return f"<@{request.decided_by}> is deciding this request right now."
    return f"This request was already decided: {views.outcome_line(request)}."
