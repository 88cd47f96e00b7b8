"""Events: the App Home."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.views.home import home


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the event listeners."""

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        # No one to answer on failure here: Bolt's error handler logs it (events are acked at once).
        mine, to_decide = await deps.service.upcoming_of(event["user"], today=deps.today())
        await client.views_publish(user_id=event["user"], view=home(mine, to_decide))
