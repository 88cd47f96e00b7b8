"""The App Home: your leave (with Cancel), your balance, Request leave, and the requests waiting for you."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import slack_requests as sr
from conftest import ALICE, BOB, CAROL, MALLORY, Bot

from bot.services.wiring import Services
from bot.store import Store
from bot.store.tables import LeaveRequest, SlackUser
from bot.views import home as views
from bot.views import ids
from providers.base import Capabilities
from providers.local import LocalProvider
from providers.models import Balance, Decision, Draft, Person, Status

TODAY = date(2026, 11, 23)
DAY = date.today() + timedelta(days=30)


def request(
    request_id: int | None, status: str, start: date, *, requester: str | None = ALICE
) -> LeaveRequest:
    """A stored request of Alice's."""
    return LeaveRequest(
        id=request_id,
        idempotency_key=f"k{start}" if request_id is None else f"k{request_id}",
        provider="local",
        status=status,
        requester_slack_id=requester,
        requester_person_id="alice@example.com",
        requester_name="Alice <Archer>",
        start_date=start,
        end_date=start,
        start_part="AM",
        end_part="PM",
        leave_type_name="Annual leave",
        reason="family & friends",
    )


def buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(action_id, value) of every button in a view, accessories included."""
    found = []
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found.append((element["action_id"], element["value"]))
    return found


# -- the builder ----------------------------------------------------------------------------------


def test_home_offers_cancel_only_on_upcoming_pending_or_approved_leave() -> None:
    """Pending and approved leave to come has Cancel (with a confirmation); declined, cancelled and failed have none."""
    mine = [
        request(1, Status.PENDING, TODAY),
        request(2, Status.APPROVED, TODAY + timedelta(days=3)),
        request(3, Status.DECLINED, TODAY + timedelta(days=4)),
        request(4, Status.CANCELLED, TODAY + timedelta(days=5)),
        request(5, "failed", TODAY + timedelta(days=6)),
    ]
    view = views.build_home(views.HomeSummary(mine=mine), today=TODAY)
    assert view["type"] == "home"
    assert buttons(view) == [(ids.HOME_REQUEST, "new"), (ids.HOME_CANCEL, "1"), (ids.HOME_CANCEL, "2")]
    cancel = view["blocks"][2]["accessory"]
    assert cancel["confirm"]["confirm"]["text"] == "Cancel leave"
    text = json.dumps(view, ensure_ascii=False)
    assert "Mon 23 Nov · Annual leave — ⏳ waiting for approval" in text and "❌ declined" in text


def test_home_lists_what_waits_for_an_approver_with_approve_and_decline() -> None:
    """Each request waiting for the approver shows who, when, why, and Approve / Decline carrying its id."""
    waiting = [request(7, Status.PENDING, TODAY), request(8, Status.PENDING, TODAY, requester=None)]
    view = views.build_home(views.HomeSummary(to_decide=waiting), today=TODAY)
    assert (ids.HOME_APPROVE, "7") in buttons(view) and (ids.HOME_DECLINE, "8") in buttons(view)
    text = json.dumps(view, ensure_ascii=False)
    assert "Waiting for you (2)" in text
    assert f"*<@{ALICE}>*: Mon 23 Nov · Annual leave\\n> family &amp; friends" in text
    assert "*Alice &lt;Archer&gt;*" in text  # no Slack user: the name, escaped


def test_home_shows_the_balance_and_a_notice_on_top() -> None:
    """A notice (the answer to a button pressed in the Home) comes first; the balance is in the provider's unit."""
    summary = views.HomeSummary(balance=Balance(remaining=12.5, unit="days"))
    view = views.build_home(summary, today=TODAY, notice="Carol decided this already.")
    assert view["blocks"][0]["text"]["text"] == "ℹ️ Carol decided this already."
    assert "*Balance:* 12.5 days left" in json.dumps(view)
    assert "No upcoming leave" in json.dumps(view)


def test_a_busy_home_stays_within_slacks_100_blocks() -> None:
    """Lots of leave and lots to decide still make a Home tab Slack accepts."""
    mine = [request(n, Status.APPROVED, TODAY + timedelta(days=n)) for n in range(60)]
    waiting = [request(100 + n, Status.PENDING, TODAY) for n in range(80)]
    view = views.build_home(views.HomeSummary(mine, waiting, Balance(remaining=3)), today=TODAY, notice="x")
    assert len(view["blocks"]) <= 100
    text = json.dumps(view, ensure_ascii=False)
    assert "…and 40 more." in text and "…and 50 more" in text


async def test_an_approver_with_hundreds_waiting_gets_the_first_thirty_and_the_count(store: Store) -> None:
    """Only the requests the Home shows are read, soonest first; the rest are counted."""
    for n in range(35):
        row = request(None, Status.PENDING, TODAY + timedelta(days=35 - n))
        created, _ = await store.create_request(request=row)
        assert created.id is not None
        await store.add_approvers(request_id=created.id, slack_user_ids=[BOB])
    service = Services(
        provider=LocalProvider(LocalProvider.Config(), engine=store.engine), store=store, slack=None
    )
    summary = await service.homes.summary(BOB, today=TODAY)
    assert summary.waiting == 35
    assert len(summary.to_decide) == views.TO_DECIDE_SHOWN + 1
    assert [r.start_date for r in summary.to_decide] == sorted(r.start_date for r in summary.to_decide)
    assert summary.to_decide[0].start_date == TODAY + timedelta(days=1)
    text = json.dumps(views.build_home(summary, today=TODAY), ensure_ascii=False)
    assert "Waiting for you (35)" in text and "…and 5 more" in text


class HrWithBalances(LocalProvider):
    """The local provider, pretending to track balances."""

    capabilities = Capabilities(balances=True)

    async def balance(self, person: Person) -> Balance | None:
        return Balance(remaining=7 if person.email == "alice@example.com" else 0, unit="hours")


async def test_home_has_the_balance_where_the_provider_tracks_one(store: Store) -> None:
    """The Home summary asks the provider for the person's balance."""
    await store.save_slack_user(
        user=SlackUser(
            slack_user_id=ALICE, email="alice@example.com", name="Alice", person_id="alice@example.com"
        )
    )
    service = Services(provider=HrWithBalances(engine=store.engine), store=store, slack=None)
    summary = await service.homes.summary(ALICE, today=TODAY)
    assert summary.balance == Balance(remaining=7, unit="hours")


# -- end to end -----------------------------------------------------------------------------------


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds, for work done after the ack."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


def home_of(bot: Bot, user: str) -> str:
    """The user's Home as last published, as text."""
    return json.dumps(bot.slack.home.get(user, {}), ensure_ascii=False)


async def open_home(bot: Bot, user: str) -> dict[str, Any]:
    """Open the Home tab as ``user``; returns the view published for them."""
    before = len(bot.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1.0"}
    response = await bot.post(sr.event_callback(event, event_id=f"Ev{user}{before}"), json_body=True)
    assert response.status_code == 200
    calls = await bot.slack.wait_for("views.publish", count=before + 1)
    [mine] = [c for c in calls[before:] if c.args["user_id"] == user][-1:]
    return mine.args["view"]  # type: ignore[no-any-return]


async def click_in_home(bot: Bot, action_id: str, value: str, *, user: str) -> None:
    """Press a button in the Home tab: Slack sends no response_url, and the container is the view."""
    payload = sr.block_action(user_id=user, action_id=action_id, value=value, container_type="view")
    del payload["message"], payload["channel"]
    payload["view"] = {"id": "VHOME", "type": "home", "blocks": []}
    response = await bot.post(sr.interactive(payload))
    assert response.status_code == 200


async def pending_request(bot: Bot) -> int:
    """Alice's pending request for DAY (Bob and Carol approve); returns its id once every Home was refreshed."""
    submitted = await bot.service.requests.submit(
        draft=Draft(start_date=DAY, end_date=DAY), key=f"home-{time.monotonic()}", slack_user_id=ALICE
    )
    assert submitted.request.id is not None
    await eventually(lambda: {ALICE, BOB, CAROL} <= set(bot.slack.home))
    return submitted.request.id


async def test_requester_and_approver_each_see_their_part(bot: Bot) -> None:
    """Alice sees her pending leave with Cancel and Request leave; Bob sees it waiting for him with Approve / Decline."""
    request_id = await pending_request(bot)
    alice = await open_home(bot, ALICE)
    assert buttons(alice) == [(ids.HOME_REQUEST, "new"), (ids.HOME_CANCEL, str(request_id))]
    assert "waiting for approval" in json.dumps(alice)
    bob = await open_home(bot, BOB)
    assert (ids.HOME_APPROVE, str(request_id)) in buttons(bob) and (
        ids.HOME_DECLINE,
        str(request_id),
    ) in buttons(bob)
    assert f"*<@{ALICE}>*" in json.dumps(bob)


async def test_approve_in_the_home_decides_once_and_refreshes_every_home(bot: Bot) -> None:
    """Bob approves from his Home: the provider approves, the cards are edited, and Alice's, Bob's and Carol's Homes are refreshed."""
    request_id = await pending_request(bot)
    bot.slack.reset()
    await click_in_home(bot, ids.HOME_APPROVE, str(request_id), user=BOB)
    await bot.slack.wait_for("chat.update", count=2)
    await eventually(lambda: "✅ approved" in home_of(bot, ALICE))
    await eventually(lambda: f'"{ids.HOME_APPROVE}"' not in home_of(bot, BOB) + home_of(bot, CAROL))
    assert bot.provider.calls["approve"] == 1
    assert [a.status for a in await bot.provider.absences(DAY, DAY)] == [Status.APPROVED]


async def test_a_late_approve_in_the_home_is_answered_in_the_home(bot: Bot) -> None:
    """Carol pressing Approve after Bob decided sees who decided on top of her Home; nothing else happens."""
    request_id = await pending_request(bot)
    await bot.service.requests.decide(request_id=request_id, slack_user_id=BOB, decision=Decision.APPROVE)
    await click_in_home(bot, ids.HOME_APPROVE, str(request_id), user=CAROL)
    await eventually(lambda: "already decided" in home_of(bot, CAROL))
    assert f"Approved by <@{BOB}>" in home_of(bot, CAROL)
    assert bot.provider.calls["approve"] == 1


async def test_cancel_in_the_home_withdraws_the_leave_and_updates_the_cards(bot: Bot) -> None:
    """Alice cancels from her Home: the provider cancels, both cards say so, her Home loses the Cancel button."""
    request_id = await pending_request(bot)
    await click_in_home(bot, ids.HOME_CANCEL, str(request_id), user=ALICE)
    updates = await bot.slack.wait_for("chat.update", count=2)
    assert all(
        f"Cancelled by <@{ALICE}>" in json.dumps(u.args["blocks"], ensure_ascii=False) for u in updates
    )
    await eventually(lambda: "🚫 cancelled" in home_of(bot, ALICE))
    assert (ids.HOME_CANCEL, str(request_id)) not in buttons(bot.slack.home[ALICE])
    assert [a.status for a in await bot.provider.absences(DAY, DAY)] == [Status.CANCELLED]
    log = await bot.service.deps.store.audit_log(request_id=request_id)
    assert [(e.actor, e.action) for e in log][-1] == (ALICE, "cancel")


async def test_only_the_requester_can_cancel_from_the_home(bot: Bot) -> None:
    """Mallory pressing Cancel with Alice's request id is told so in her Home; the leave stays."""
    request_id = await pending_request(bot)
    await click_in_home(bot, ids.HOME_CANCEL, str(request_id), user=MALLORY)
    await eventually(lambda: "only cancel your own leave" in home_of(bot, MALLORY))
    [absence] = await bot.provider.absences(DAY, DAY)
    assert absence.status == Status.PENDING


async def test_request_leave_and_decline_in_the_home_open_their_modals(bot: Bot) -> None:
    """Request leave opens the request modal; Decline opens the decline modal for that request."""
    request_id = await pending_request(bot)
    await click_in_home(bot, ids.HOME_REQUEST, "new", user=ALICE)
    await click_in_home(bot, ids.HOME_DECLINE, str(request_id), user=CAROL)
    opened = await bot.slack.wait_for("views.open", count=2)
    modals = {o.args["view"]["callback_id"]: o.args["view"] for o in opened}
    assert modals.keys() == {ids.REQUEST_MODAL, ids.DECLINE_MODAL}
    assert modals[ids.DECLINE_MODAL]["private_metadata"] == str(request_id)
