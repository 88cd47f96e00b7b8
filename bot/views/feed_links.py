"""The App Home's calendar feeds: each secret link with a button for a new one, or why there are none."""

from __future__ import annotations

from collections.abc import Mapping

from bot.views import ids
from bot.views.blocks import Blocks, button, context, header, section

TITLES = {"mine": "Your leave", "department": "Your department", "company": "Everyone"}


def feed_blocks(links: Mapping[str, str] | None) -> Blocks:
    """Links by feed kind; None: LEAVEBOT_PUBLIC_URL is unset, so the Home says feeds need it."""
    blocks: Blocks = [{"type": "divider"}, header("Calendar feeds")]
    if links is None:
        return [
            *blocks,
            context("Calendar feeds need `LEAVEBOT_PUBLIC_URL` to be set by whoever runs leavebot."),
        ]
    for kind, url in links.items():
        block = section(f"*{TITLES[kind]}:* `{url}`")
        block["accessory"] = button("New link", ids.FEED_ROTATE, kind)
        blocks.append(block)
    blocks.append(context("Subscribe to a link in your calendar app. *New link* stops the old one working."))
    return blocks
