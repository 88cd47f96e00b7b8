"""GET /ical/<secret>.ics: a calendar feed, with ETag / If-None-Match and Cache-Control."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.services.feeds import Feeds


class FeedRoute:
    """Answers feed requests; an unknown or rotated secret gets the same 404 as any unknown path."""

    def __init__(self, feeds: Feeds) -> None:
        self.feeds = feeds

    async def get(self, request: Request) -> Response:
        """The feed, 304 when the client holds it already, else Starlette's own 404."""
        name = str(request.path_params.get("name", ""))
        secret = name.removesuffix(".ics") if name.endswith(".ics") else ""
        rendered = await self.feeds.render(secret)  # looked up even when malformed: every 404 costs the same
        if rendered is None:
            return PlainTextResponse("Not Found", status_code=404)
        max_age = int(self.feeds.deps.sync_interval.total_seconds())
        headers = {"ETag": rendered.etag, "Cache-Control": f"private, max-age={max_age}"}
        held = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
        if rendered.etag in held or f"W/{rendered.etag}" in held:
            return Response(status_code=304, headers=headers)
        return Response(rendered.body, media_type="text/calendar; charset=utf-8", headers=headers)
