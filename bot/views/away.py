"""The words and blocks of "my leave in my Slack status": the status text, and the App Home's part of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.views import ids
from bot.views.blocks import Blocks, button, context, section, text

STATUS_LIMIT = 100  # Slack's status_text limit (characters)
ON_LEAVE = "On leave"
OUT_OF_OFFICE = "Out of office"  # a private leave type says no more


@dataclass(frozen=True)
class AwayOffer:
    """What the Home shows of it: connected or not, and a consent link just made for this person."""

    connected: bool = False
    link: str | None = None


def day_words(day: date) -> str:
    """'Mon 4 Jan'."""
    return f"{day:%a} {day.day} {day:%b}"


def status_text(*, back: date, back_at: datetime | None, private: bool, same_day: bool) -> str:
    """'On leave · back Mon 4 Jan'; 'back 14:00' for hours off today; 'Out of office' for a private type."""
    if back_at is None:
        when = day_words(back)
    else:
        when = f"{back_at:%H:%M}" if same_day else f"{day_words(back)} {back_at:%H:%M}"
    return f"{OUT_OF_OFFICE if private else ON_LEAVE} · back {when}"[:STATUS_LIMIT]


def away_blocks(offer: AwayOffer) -> Blocks:
    """The Home's blocks: the opt-in button, the consent link once pressed, or Disconnect once connected."""
    if offer.connected:
        disconnect = button("Disconnect", ids.HOME_AWAY_DISCONNECT, "disconnect") | {
            "confirm": {
                "title": text("Disconnect your status?"),
                "text": {
                    "type": "mrkdwn",
                    "text": "leavebot will no longer set your Slack status or Do Not Disturb.",
                },
                "confirm": text("Disconnect"),
                "deny": text("Keep it"),
            }
        }
        return [
            section("🌴 Your Slack status and Do Not Disturb follow your approved leave.")
            | {"accessory": disconnect}
        ]
    if offer.link:
        allow = {
            "type": "button",
            "text": text("Allow in Slack"),
            "url": offer.link,
            "action_id": ids.HOME_AWAY_LINK,
        }
        return [
            section("Slack asks you to allow leavebot to set your status and Do Not Disturb.")
            | {"accessory": allow},
            context("The link works once, for 10 minutes."),
        ]
    connect = button("Show my leave in my Slack status", ids.HOME_AWAY_CONNECT, "connect")
    return [{"type": "actions", "block_id": "home-away", "elements": [connect]}]
