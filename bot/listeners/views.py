"""Modals: the request modal's layout following its part of the day, its submission (a new request, or a
change of a pending one's dates), and a decline with its reason."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import ListenerDeps
from bot.listeners.actions import changed_text, decided_text, submitted_text
from bot.views import ids
from bot.views import modal as views
from providers.models import Decision, Draft

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: ListenerDeps) -> None:
    """Attach the modal listeners."""

    accept_request = deps.durable("submit_modal", send)

    @app.view(ids.REQUEST_MODAL)
    async def request_submitted(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        try:
            modal_draft(deps, body)
        except views.ModalError as exc:
            await ack(response_action="errors", errors={exc.block_id: str(exc)})
            return
        await accept_request(ack, body, client, context)

    app.view(ids.DECLINE_MODAL)(deps.durable("decline", declined))

    @app.action(ids.START_PART)
    async def part_chosen(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        deps.after_ack(context, body, client, partial(relayout, deps, body, client), urgent=True)

    @app.action(ids.END_PART)  # chosen without a dispatch (nothing depends on it): acked should one come
    async def end_chosen(ack: AsyncAck) -> None:
        await ack()


async def relayout(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Show what the part of the day now chosen needs: the time pickers for hours, else the last day."""
    view = body["view"]
    laid_out = views.updated_modal(view, deps.services.requests.cached_leave_types())
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=laid_out)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        # A later choice changed the modal first; its own dispatch lays it out.
        log.info("modal %s changed before its layout was updated", view["id"])


def modal_draft(deps: ListenerDeps, body: dict[str, Any]) -> Draft:
    """The request the submitted modal describes (:class:`views.ModalError` for what is wrong in it)."""
    values = body["view"]["state"]["values"]
    return views.draft_from_modal(values, deps.services.requests.cached_leave_types())


async def send(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Submit the modal's request (or change the request it replaces) and DM the requester how it went."""
    draft, view, user_id = modal_draft(deps, body), body["view"], body["user"]["id"]
    typeless = views.modal_typeless(view)  # opened while the types could not be listed
    # The view id is the same on a double-submitted modal, so it keys the request.
    key = f"view:{view['id']}"
    if replaces := view.get("private_metadata"):
        changed = await deps.services.requests.change(
            request_id=int(replaces), draft=draft, key=key, slack_user_id=user_id, typeless=typeless
        )
        await client.chat_postMessage(channel=user_id, text=changed_text(changed))
        return
    result = await deps.services.requests.submit(
        draft=draft, key=key, slack_user_id=user_id, typeless=typeless
    )
    await client.chat_postMessage(channel=user_id, text=submitted_text(result))


async def declined(deps: ListenerDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Decline once, with the reason typed; tell a late decider who decided."""
    view = body["view"]
    field = view["state"]["values"].get(ids.DECLINE_REASON, {}).get(ids.DECLINE_REASON, {})
    user_id = body["user"]["id"]
    result = await deps.services.requests.decide(
        request_id=int(view["private_metadata"]),
        slack_user_id=user_id,
        decision=Decision.DECLINE,
        reason=(field.get("value") or "").strip(),
    )
    if answer := decided_text(result):
        await client.chat_postMessage(channel=user_id, text=answer)
