"""The approval leavebot keeps (WhosOff, TimeTap, OffiServ): one flow, run on each provider's fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import test_offiserv
import test_timetap
import test_whosoff
from conftest import ALICE as U_ALICE
from conftest import BOB as U_BOB
from fakes import timetap, whosoff
from fakes.slack import FakeSlack
from helpers.bots import ProviderBot, decline_in_the_modal, dms_to, has_dm, submitted
from helpers.cards import buttons
from helpers.kit import ProviderKit
from remote_bot import until

from bot.views import ids


def whosoff_booked(fake: Any) -> str:
    [leave] = fake.leaves.values()
    assert (leave["user_id"], leave["status_id"], leave["note"]) == (
        whosoff.ALICE,
        whosoff.APPROVED,
        "the dentist",
    )
    day, following = test_whosoff.DAY, test_whosoff.NEXT
    assert (str(leave["start"]), str(leave["end"])) == (f"{day} 12:00:00", f"{following} 00:00:00")
    return str(leave["leave_id"])


def timetap_booked(fake: Any) -> str:
    [record] = fake.time_off.values()
    assert (record["staffId"], record["startDate"], record["endDate"]) == (
        timetap.ALICE,
        test_timetap.DAY.isoformat(),
        test_timetap.DAY.isoformat(),
    )
    assert (record["startTime"], record["endTime"], record["active"]) == ("1300", "1700", True)
    return str(record["timeOffId"])


def offiserv_booked(fake: Any) -> str:
    [held] = fake.leaves_of("alice")
    assert (held["state"], held["reason"]) == ("ACCEPTED", "the dentist")
    assert (held["start"], held["end"]) == (
        test_offiserv.local(test_offiserv.MONDAY, 12).astimezone(UTC),
        test_offiserv.local(test_offiserv.TUESDAY, 0).astimezone(UTC),
    )
    return str(held["uri"])


def whosoff_untouched(fake: Any) -> None:
    leave_calls = [p for p in test_whosoff.paths(fake) if p.startswith("/v4/leave/")]
    assert leave_calls == ["/v4/leave/validate"] and fake.leaves == {}


def timetap_untouched(fake: Any) -> None:
    writes = [c for c in fake.calls if c.method in ("POST", "PUT", "DELETE")]
    assert writes == [] and fake.time_off == {}


def offiserv_untouched(fake: Any) -> None:
    assert test_offiserv.leave_posts_to(fake) == [] and [c for c in fake.calls if c.method == "PUT"] == []
    assert fake.leaves == {}


@dataclass(frozen=True)
class Kept:
    """One provider whose approval leavebot keeps: its test kit, what Alice asks for."""

    kit: ProviderKit[Any, Any]
    text: str
    untouched: Callable[[Any], None]  # what the provider must not have been sent after a decline
    booked: Callable[[Any], str]  # what the provider holds once Bob approved: asserted, its booking id
    told: str  # what Alice's DM says once approved


KEPT = {
    "whosoff": Kept(
        test_whosoff.KIT,
        f"{test_whosoff.DAY.isoformat()} pm for the dentist",
        whosoff_untouched,
        whosoff_booked,
        "was approved",
    ),
    "timetap": Kept(
        test_timetap.KIT,
        f"{test_timetap.DAY.isoformat()} pm for the dentist",
        timetap_untouched,
        timetap_booked,
        "was approved",
    ),
    "offiserv": Kept(
        test_offiserv.KIT,
        f"{test_offiserv.MONDAY.isoformat()} pm for the dentist",
        offiserv_untouched,
        offiserv_booked,
        "approved",
    ),
}


@pytest.fixture(params=list(KEPT))
async def kept(
    request: pytest.FixtureRequest, tmp_path: Path, slack: FakeSlack
) -> AsyncIterator[tuple[ProviderBot[Any], Kept]]:
    """leavebot on one bot-kept provider, served by uvicorn, talking to the fake Slack and that provider's fake."""
    provider = KEPT[request.param]
    async with provider.kit.bot(slack, tmp_path) as bot:
        yield bot, provider


async def test_approve_books_the_leave_in_the_provider_and_tells_alice(
    kept: tuple[ProviderBot[Any], Kept],
) -> None:
    """Bob approves: the provider then holds Alice's afternoon, his card loses its buttons, Alice is told once."""
    bot, provider = kept
    request = await submitted(bot, provider.text)
    await bot.click(ids.APPROVE, str(request.id), user=U_BOB)
    [update] = await bot.slack.wait_for("chat.update")
    assert buttons(update.args["blocks"]) == []
    assert f"Approved by <@{U_BOB}>" in json.dumps(update.args["blocks"])
    booking_id = provider.booked(bot.fake)
    await until(lambda: has_dm(bot, U_ALICE, provider.told))
    row = await bot.service.deps.store.request(request_id=request.id or 0)
    assert row is not None and (row.status, row.booking_id) == ("approved", booking_id)
    assert len([t for t in dms_to(bot, U_ALICE) if "approved" in t]) == 1


async def test_decline_never_reaches_the_provider(kept: tuple[ProviderBot[Any], Kept]) -> None:
    """Bob declines with a reason: Alice is told with it, and the provider never hears of the decision."""
    bot, provider = kept
    request = await submitted(bot, provider.text)
    await bot.click(ids.DECLINE, str(request.id), user=U_BOB)
    await decline_in_the_modal(bot, "Release week", user=U_BOB)
    await bot.slack.wait_for("chat.update")
    await until(lambda: has_dm(bot, U_ALICE, "> Release week"))
    provider.untouched(bot.fake)
