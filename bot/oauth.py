"""GET /slack/oauth_redirect: where Slack sends someone back after they allowed (or refused) leavebot to set
their status; the answer is a small page for their browser, and their Home shows the result."""

from __future__ import annotations

import html
import logging

from slack_sdk.errors import SlackApiError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.services.connect import ConnectRefused
from bot.services.wiring import Services

log = logging.getLogger(__name__)

CONNECTED = "Your Slack status and Do Not Disturb will now follow your approved leave."
NOT_ALLOWED = (
    "Nothing was changed: you did not allow leavebot. You can try again from leavebot's Home in Slack."
)
NOT_SET_UP = "leavebot is not set up to change Slack statuses here. Ask whoever runs it."


def page(message: str, *, status: int = 200) -> HTMLResponse:
    """A page that says ``message`` and sends the person back to Slack; never cached, never framed."""
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>leavebot</title>"
        '<meta name=viewport content="width=device-width">'
        f"<body style='font-family:sans-serif;max-width:36em;margin:3em auto'><h1>leavebot</h1><p>{html.escape(message)}</p>"
        "<p>You can close this tab and go back to Slack.</p></body></html>"
    )
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(body, status_code=status, headers=headers)


class OAuthRedirect:
    """The OAuth callback, bound to the running services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def answer(self, request: Request) -> Response:
        """Exchange the code, keep the token, refresh the person's Home; a friendly page either way."""
        connections = self.services.connections
        if connections is None:
            return page(NOT_SET_UP, status=404)
        params = request.query_params
        if params.get("error"):  # the person pressed Cancel on Slack's page (error=access_denied)
            return page(NOT_ALLOWED)
        code, state = params.get("code", ""), params.get("state", "")
        if not code or not state or len(code) > 500 or len(state) > 500:
            return page(
                "This link is incomplete. Press the button in leavebot's Home in Slack again.", status=400
            )
        try:
            user = await connections.finish(code=code, state=state)
        except ConnectRefused as exc:
            return page(str(exc), status=400)
        try:
            await self.services.homes.publish(user, notice=CONNECTED)
        except SlackApiError as exc:  # connected all the same; the Home shows it when next opened
            log.warning(
                "could not refresh the Home of %s after connecting: %s", user, exc.response.get("error")
            )
        return page(CONNECTED)
