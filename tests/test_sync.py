"""The absence mirror: sync passes bring what happened inside the HR system to Slack when no webhook did,
and `/leave who` answers from the mirror, without the HR system.

Timetastic's fake with its webhooks lost (none delivered), and When I Work's (it has none): only the
passes can see their changes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ALICE as U_ALICE
from conftest import BOB as U_BOB
from conftest import CAROL as U_CAROL
from fakes.slack import FakeSlack
from fakes.timetastic import BOB, DAVE, FakeTimetastic
from fakes.wheniwork import DENIED, FakeWhenIWork
from helpers.cards import buttons
from remote_bot import provider_bot
from test_timetastic import DAY, TimetasticBot, connect, dms_to, submitted
from test_wheniwork import WhenIWorkBot
from test_wheniwork import connect as wiw_connect
from test_wheniwork import submitted as wiw_submitted
from test_who import ask

from bot.store.tables import now
from bot.views import ids

SOON = date.today() + timedelta(days=3)  # inside a near pass's two weeks


@pytest.fixture
async def quiet(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[TimetasticBot]:
    """leavebot on Timetastic whose webhooks never arrive, its mirror filled by a first full pass."""
    with FakeTimetastic() as fake:
        provider = connect(fake)
        async with provider_bot(provider, slack, tmp_path) as bot:
            assert await bot.service.sync.run_pass(full=True) is not None
            yield TimetasticBot(**vars(bot), fake=fake, timetastic=provider)


async def test_a_decision_made_in_timetastic_reaches_slack_by_the_next_pass(quiet: TimetasticBot) -> None:
    """Bob declines inside Timetastic and no webhook comes: the next pass edits his card (no buttons, who
    decided) and tells Alice once; later passes tell nobody again."""
    request = await submitted(quiet)
    quiet.fake.decide_in_timetastic(int(request.booking_id or 0), "Decline", by=BOB, reason="Offsite")
    assert await quiet.service.sync.run_pass(full=False) is not None
    [update] = quiet.slack.calls_to("chat.update")
    assert buttons(update.args["blocks"]) == []
    assert f"Declined by <@{U_BOB}>" in json.dumps(update.args["blocks"])
    assert len([t for t in dms_to(quiet, U_ALICE) if "declined" in t]) == 1
    for full in (False, True):
        again = await quiet.service.sync.run_pass(full=full)
        assert again is not None and len(again.changes) == 0
    assert len([t for t in dms_to(quiet, U_ALICE) if "declined" in t]) == 1
    assert len(quiet.slack.calls_to("chat.update")) == 1
    stored = await quiet.service.deps.store.request(request_id=request.id or 0)
    assert stored is not None and stored.status == "declined"


async def test_a_click_on_a_card_decided_in_timetastic_makes_no_call(quiet: TimetasticBot) -> None:
    """After a pass saw Bob approve in Timetastic, his click on the old card answers what happened there."""
    request = await submitted(quiet)
    quiet.fake.decide_in_timetastic(int(request.booking_id or 0), "Approve", by=BOB)
    await quiet.service.sync.run_pass(full=False)
    actions = len(quiet.fake.calls_to("POST", f"/holidays/{request.booking_id}"))
    await quiet.click(ids.APPROVE, str(request.id), user=U_BOB, hook="late")
    [answer] = await quiet.slack.wait_for("hooks/late")
    assert "approved" in answer.args["text"].lower()
    assert len(quiet.fake.calls_to("POST", f"/holidays/{request.booking_id}")) == actions


async def test_a_booking_made_and_deleted_in_timetastic_shows_and_goes(quiet: TimetasticBot) -> None:
    """Dave is booked off in Timetastic: after a pass `/leave who` names him; once it is deleted there, the
    next full pass drops him (the mirror never keeps what the HR system no longer has)."""
    holiday = quiet.fake.book_in_timetastic(DAVE, SOON)
    report = await quiet.service.sync.run_pass(full=False)
    assert report is not None and [a.id for a in report.changes.new] == [str(holiday)]
    [answer] = await ask(quiet, SOON.isoformat(), "after-booking")
    assert "Dave Admin" in json.dumps(answer.args["blocks"])
    quiet.fake.decide_in_timetastic(holiday, "Delete", by=DAVE)
    near = await quiet.service.sync.run_pass(full=False)
    assert near is not None and near.changes.hidden == 1
    full = await quiet.service.sync.run_pass(full=True)
    assert full is not None and [a.id for a in full.changes.deleted] == [str(holiday)]
    [after] = await ask(quiet, SOON.isoformat(), "after-delete")
    assert "Dave Admin" not in json.dumps(after.args["blocks"])


async def test_who_answers_from_the_mirror_while_timetastic_is_down(quiet: TimetasticBot) -> None:
    """With Timetastic failing every call, `/leave who` still names who is off, from the mirror, with the
    time it was last in step once that is over two intervals old; no Timetastic call is made for it."""
    quiet.fake.book_in_timetastic(DAVE, DAY)
    await quiet.service.sync.run_pass(full=True)
    an_hour_ago = now() - timedelta(hours=1)
    await quiet.service.deps.store.end_sync(provider="timetastic", near_at=an_hour_ago)
    quiet.fake.fail_next(1000, status=503)
    calls = len(quiet.fake.calls)
    [answer] = await ask(quiet, DAY.isoformat(), "down")
    text = json.dumps(answer.args["blocks"])
    assert "Dave Admin" in text
    assert f"(as of {an_hour_ago.astimezone(quiet.service.deps.zone):%H:%M})" in text
    assert len(quiet.fake.calls) == calls
    assert await quiet.service.sync.run_pass(full=False) is None  # the pass failed: the mirror is kept
    [again] = await ask(quiet, DAY.isoformat(), "still-down")
    assert "Dave Admin" in json.dumps(again.args["blocks"])


async def test_only_one_instance_syncs_at_a_time(quiet: TimetasticBot) -> None:
    """While one instance holds the sync lease, another's pass does not run; once it is handed back, it does."""
    store = quiet.service.deps.store
    assert await store.claim_sync(provider="timetastic", lease=timedelta(minutes=1))
    assert await quiet.service.sync.run_pass(full=False) is None
    await store.end_sync(provider="timetastic")
    assert await quiet.service.sync.run_pass(full=False) is not None


async def test_a_denial_made_in_when_i_work_reaches_both_cards_by_the_next_pass(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """A manager denies Alice's request inside When I Work: the next pass edits both approvers' cards and
    tells Alice once."""
    with FakeWhenIWork() as fake:
        async with provider_bot(wiw_connect(fake), slack, tmp_path) as bot:
            assert await bot.service.sync.run_pass(full=True) is not None
            request = await wiw_submitted(WhenIWorkBot(**vars(bot), fake=fake))
            fake.requests[int(request.booking_id or 0)]["user_status"] = DENIED  # done in When I Work's app
            assert await bot.service.sync.run_pass(full=False) is not None
            updates = slack.calls_to("chat.update")
            assert sorted(u.args["channel"] for u in updates) == [f"D{U_BOB}", f"D{U_CAROL}"]
            assert all(buttons(u.args["blocks"]) == [] for u in updates)
            await bot.service.sync.run_pass(full=True)
            told = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == U_ALICE]
            assert len([c for c in told if "declined" in c.args["text"]]) == 1
