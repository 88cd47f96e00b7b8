"""Changes each HR system makes by itself reach `/leave who` within one sync interval, and the mirror never
keeps an absence the HR system no longer has after the next pass.

One family over the five HR systems and ``local``: a booking made in the HR system, its dates changed
there, and it cancelled or deleted there; and, where the HR system keeps the approval (Timetastic, When I
Work, local), a request from Slack approved, declined or cancelled there: every card, the DM, the App
Home. Every fake makes these the way its own UI would (``book_by_itself``, ``move_by_itself``,
``remove_by_itself``, ``decide_by_itself``: no webhook); local's "UI" is its table in leavebot's database,
changed by an operator outside the bot (``fakes.local_table``). Passes are driven through ``Sync.run_due`` one
interval after the start, so what is asserted is what one scheduled near pass does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import test_offiserv
import test_timetap
import test_timetastic
import test_wheniwork
import test_whosoff
from conftest import ALICE, APPROVERS, Bot
from fakes import offiserv, timetap, timetastic, wheniwork, whosoff
from fakes.local_table import LocalTable
from fakes.slack import FakeSlack
from helpers.bots import dms_to, submitted
from helpers.cards import buttons
from remote_bot import provider_bot
from test_home import open_home
from test_who import ask

from bot.services.digest import post_digest
from bot.store.tables import now


def _weekday(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


SOON = _weekday(date.today() + timedelta(days=3))  # inside a near pass's two weeks
LATER = _weekday(SOON + timedelta(days=1))


ALICES = {"timetastic": timetastic.ALICE, "wheniwork": wheniwork.ALICE, "whosoff": whosoff.ALICE}
ALICES |= {"timetap": timetap.ALICE, "offiserv": "alice", "local": "alice@example.com"}


@dataclass(frozen=True)
class HR:
    """One HR system's fake, how leavebot connects to it, and someone it can book off by itself."""

    fake: Callable[[Path], Any]  # started with the bot's SQLite file, a context manager
    connect: Callable[[Any], Any]
    person: Any
    name: str


def _local(path: Path) -> LocalTable:
    return LocalTable(path)


HRS = {
    "timetastic": HR(
        lambda _: timetastic.FakeTimetastic(), test_timetastic.connect, timetastic.MALLORY, "<@U0MALLORY>"
    ),
    "wheniwork": HR(
        lambda _: wheniwork.FakeWhenIWork(), test_wheniwork.connect, wheniwork.MALLORY, "<@U0MALLORY>"
    ),
    "whosoff": HR(lambda _: whosoff.FakeWhosOff(), test_whosoff.connect, whosoff.MALLORY, "<@U0MALLORY>"),
    "timetap": HR(lambda _: timetap.FakeTimeTap(), test_timetap.connect, timetap.MALLORY, "<@U0MALLORY>"),
    "offiserv": HR(lambda _: offiserv.FakeOffiServ(), test_offiserv.connect, "mallory", "<@U0MALLORY>"),
    "local": HR(_local, lambda table: table.provider(APPROVERS), "mallory@example.com", "<@U0MALLORY>"),
}


@dataclass
class Synced:
    bot: Bot
    fake: Any
    hr: HR
    name: str
    passes: int = 0

    async def next_pass(self) -> Any:
        """The pass the schedule runs one interval after the last: a near one."""
        self.passes += 1
        sync = self.bot.service.sync
        report = await sync.run_due(now() + sync.interval * self.passes)
        assert report is not None and not report.full
        return report

    async def who(self, day: date, hook: str) -> str:
        return json.dumps([a.args["blocks"] for a in await ask(self.bot, day.isoformat(), hook)])


@pytest.fixture(params=list(HRS))
async def synced(request: pytest.FixtureRequest, tmp_path: Path, slack: FakeSlack) -> AsyncIterator[Synced]:
    """leavebot on one HR system, its mirror filled by the first full pass."""
    hr = HRS[request.param]
    with hr.fake(tmp_path / "leavebot.db") as fake:  # provider_bot's database
        if hasattr(fake, "deliver_automatically"):
            fake.deliver_automatically = False  # Timetastic's webhooks lost: only passes see its changes
        async with provider_bot(hr.connect(fake), slack, tmp_path) as bot:
            first = await bot.service.sync.run_pass(full=True)
            assert first is not None and first.full
            yield Synced(bot, fake, hr, request.param)


async def test_a_booking_made_in_the_hr_system_shows_by_the_next_pass(synced: Synced) -> None:
    booking = synced.fake.book_by_itself(synced.hr.person, SOON)
    assert synced.hr.name not in await synced.who(SOON, "before")
    report = await synced.next_pass()
    assert [a.id for a in report.changes.new] == [booking]
    assert synced.hr.name in await synced.who(SOON, "after")


async def test_a_date_changed_in_the_hr_system_moves_by_the_next_pass(synced: Synced) -> None:
    booking = synced.fake.book_by_itself(synced.hr.person, SOON)
    await synced.next_pass()
    synced.fake.move_by_itself(booking, LATER)
    report = await synced.next_pass()
    assert [after.id for _, after in report.changes.changed] == [booking]
    assert synced.hr.name not in await synced.who(SOON, "old-day")
    assert synced.hr.name in await synced.who(LATER, "new-day")


async def test_a_booking_removed_in_the_hr_system_goes_by_the_next_pass(synced: Synced) -> None:
    booking = synced.fake.book_by_itself(synced.hr.person, SOON)
    await synced.next_pass()
    assert synced.hr.name in await synced.who(SOON, "booked")
    synced.fake.remove_by_itself(booking)
    await synced.next_pass()
    assert synced.hr.name not in await synced.who(SOON, "removed")


async def test_leave_booked_in_the_hr_system_shows_in_leave_mine_by_the_next_pass(synced: Synced) -> None:
    """Alice's leave entered in the HR system (not through leavebot) is in her `/leave mine` after a pass."""
    synced.fake.book_by_itself(ALICES[synced.name], SOON)
    await synced.next_pass()
    response = await synced.bot.command("mine", hook="mine")
    assert response.status_code == 200
    answers = await synced.bot.slack.wait_for("hooks/mine")
    assert f"{SOON:%a} {SOON.day} {SOON:%b}" in json.dumps([a.args for a in answers])


HR_KEPT = [
    "timetastic",
    "wheniwork",
    "local",
]  # the others' approval is leavebot's: nothing to decide in the HR system
DECISIONS = {"approve": "approved", "decline": "declined", "cancel": "cancel"}


@pytest.mark.parametrize("decision", list(DECISIONS))
@pytest.mark.parametrize("synced", HR_KEPT, indirect=True)
async def test_a_request_decided_in_the_hr_system_reaches_every_card_and_the_requester_once(
    synced: Synced, decision: str
) -> None:
    """Alice's request from Slack is approved, declined or cancelled inside the HR system: the next pass
    edits every approver's card (no buttons left), tells Alice once, refreshes her App Home, and `/leave
    who` names her only if it was approved; later passes change nothing more."""
    bot = synced.bot
    day = test_timetastic.DAY  # == test_wheniwork.DAY; a near pass reaches as far as the last request waiting
    if synced.name in ("wheniwork", "local"):  # two approvers
        request = await test_wheniwork.submitted(bot)  # waits for both cards
    else:
        request = await submitted(bot, f"{day.isoformat()} pm for the dentist")
    booking = str(request.booking_id)
    cards = [c for c in bot.slack.calls_to("chat.postMessage") if buttons(c.args.get("blocks") or [])]
    homes = len(bot.slack.calls_to("views.publish"))
    if decision == "cancel":
        synced.fake.remove_by_itself(booking)
    else:
        synced.fake.decide_by_itself(booking, approve=decision == "approve")
    await synced.next_pass()
    updates = bot.slack.calls_to("chat.update")
    assert sorted(u.args["channel"] for u in updates) == sorted(f"D{c.args['channel']}" for c in cards)
    assert all(buttons(u.args["blocks"]) == [] for u in updates)
    told = [t for t in dms_to(bot, ALICE) if DECISIONS[decision] in t.lower()]
    assert len(told) == 1
    assert [c for c in bot.slack.calls_to("views.publish")[homes:] if c.args["user_id"] == ALICE]
    assert ("<@" + ALICE + ">" in await synced.who(day, "decided")) == (decision == "approve")
    await synced.next_pass()
    assert len(bot.slack.calls_to("chat.update")) == len(updates)
    assert len([t for t in dms_to(bot, ALICE) if DECISIONS[decision] in t.lower()]) == 1


FAR = _weekday(date.today() + timedelta(days=60))  # beyond a near pass: only a full pass looks there


async def test_the_mirror_keeps_no_absence_the_hr_system_no_longer_has_after_the_next_pass(
    synced: Synced,
) -> None:
    """Two bookings removed in the HR system, one in the next two weeks and one two months ahead: the
    next near pass takes the first out of the mirror, the next full pass (whose window reaches the second)
    the other; neither is read back by any surface after that."""
    store, name = synced.bot.service.deps.store, synced.bot.service.deps.provider.name
    soon = synced.fake.book_by_itself(synced.hr.person, SOON)
    far = synced.fake.book_by_itself(synced.hr.person, FAR)
    assert await synced.bot.service.sync.run_pass(full=True) is not None
    assert {soon, far} <= {a.id for a in await synced.bot.service.deps.absences(SOON, FAR)}
    synced.fake.remove_by_itself(soon)
    synced.fake.remove_by_itself(far)
    await synced.next_pass()
    assert soon not in {a.id for a in await store.mirrored(provider=name, start=SOON, end=SOON)}
    full = await synced.bot.service.sync.run_pass(full=True)
    assert full is not None
    left = {a.id for a in await synced.bot.service.deps.absences(SOON, FAR) if a.status != "cancelled"}
    assert not {soon, far} & left
    assert synced.hr.name not in await synced.who(FAR, "far")


BALANCE_CALLS = ("/users/", "/v4/user-allowance/", "/data/limits")  # Timetastic, WhosOff, OffiServ


@pytest.mark.parametrize("synced", [n for n in HRS if n != "local"], indirect=True)
async def test_with_the_hr_system_down_every_reader_answers_from_the_mirror_as_of_its_last_pass(
    synced: Synced,
) -> None:
    """The HR system fails every call and the last good pass is an hour old: Alice's App Home still lists
    the leave booked for her there, `/leave who` and the digest still name Mallory, both marked "(as of
    HH:MM)", and the digest posts; the only HR call tried is the Home's balance (shown without it)."""
    deps = synced.bot.service.deps
    synced.fake.book_by_itself(ALICES[synced.name], SOON)
    synced.fake.book_by_itself(synced.hr.person, SOON)
    await synced.next_pass()
    an_hour_ago = now() - timedelta(hours=1)
    await deps.store.end_sync(provider=deps.provider.name, near_at=an_hour_ago)
    synced.fake.fail_next(1000, status=503)
    calls = len(synced.fake.calls)
    as_of = f"(as of {an_hour_ago.astimezone(deps.zone):%H:%M})"

    home = json.dumps(await open_home(synced.bot, ALICE))
    assert f"{SOON:%a} {SOON.day} {SOON:%b}" in home
    who = await synced.who(SOON, "down")
    assert synced.hr.name in who and as_of in who
    assert await post_digest(deps, day=SOON, channels=["C0DIGEST"]) == {"C0DIGEST": True}
    [digest] = [c for c in synced.bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
    assert synced.hr.name in json.dumps(digest.args["blocks"]) and as_of in digest.args["text"]
    tried = [c.path for c in synced.fake.calls[calls:]]
    assert all(path.startswith(BALANCE_CALLS) for path in tried), tried  # the Home's balance: tried, left out
