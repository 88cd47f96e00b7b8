"""Modal submissions: a new request, and a decline with its reason."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps, reporting_errors
from bot.listeners.actions import already_decided, submitted_text
from bot.views import ids
from bot.views import requests as views
from providers.models import Decision


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the modal listeners."""

    @app.view(ids.REQUEST_MODAL)
    async def request_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            draft = views.draft_from_modal(view["state"]["values"], deps.service.cached_leave_types())
        except views.ModalError as exc:
            await ack(response_action="errors", errors={exc.block_id: str(exc)})
            return
        await ack()
        async with reporting_errors(body, client):
            user_id = body["user"]["id"]
            # The view id is the same on a double-submitted modal, so it keys the request.
            result = await deps.service.submit(draft=draft, key=f"view:{view['id']}", slack_user_id=user_id)
            await client.chat_postMessage(channel=user_id, text=submitted_text(result))

    @app.view(ids.DECLINE_MODAL)
    async def decline_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        async with reporting_errors(body, client):
            field = view["state"]["values"].get(ids.DECLINE_REASON, {}).get(ids.DECLINE_REASON, {})
            user_id = body["user"]["id"]
            result = await deps.service.decide(
                request_id=int(view["private_metadata"]),
                slack_user_id=user_id,
                decision=Decision.DECLINE,
                reason=(field.get("value") or "").strip(),
            )
            if not result.acted:
                await client.chat_postMessage(channel=user_id, text=already_decided(result.request))
