"""Two `leavebot serve` processes on one PostgreSQL database: 50 simultaneous approve clicks, one approval;
a decision made inside the HR system, seen by both instances' sync passes, announced once.

The database decides who acts (a conditional update), so it holds across processes as it does across
tasks. Requires PostgreSQL; without it this test is reported as skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import slack_requests as sr
from conftest import ALICE, APPROVERS, BOB, CAROL, FIGURES, SECRET
from fakes.slack import FakeSlack
from fakes.timetastic import TOKEN, FakeTimetastic
from helpers.cards import button_value, buttons, preview_value
from test_e2e import DAY

from bot.store import Store, create_engine
from bot.store.tables import LeaveRequest
from bot.views import ids

CLICKS = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until a started instance answers /healthz."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the instance exited"
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became healthy")


@asynccontextmanager
async def running_instances(
    database_url: str, slack: FakeSlack, tmp_path: Path, **settings: str
) -> AsyncIterator[list[str]]:
    """Two instances of `leavebot serve` sharing one database (local provider unless ``settings`` say);
    yields their base URLs once both answer /healthz."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEAVEBOT_", "LOCAL_", "DIGEST_"))
    }
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": database_url,
        "LOCAL_APPROVERS": APPROVERS,
    }
    env |= settings
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"instance-{port}.log").open("wb") for port in ports]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env | {"PORT": str(port)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            await healthy(url, process)
        yield urls
    finally:
        for process, log in zip(processes, logs, strict=True):
            process.terminate()
            process.wait(timeout=10)
            log.close()


@pytest.fixture
async def instances(database_url: str, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two instances of `leavebot serve` (local provider) sharing the test's PostgreSQL database."""
    async with running_instances(database_url, slack, tmp_path) as urls:
        yield urls


async def post(http: httpx.AsyncClient, url: str, body: str) -> httpx.Response:
    return await http.post(f"{url}/slack/events", content=body, headers=sr.signed_headers(body, SECRET))


async def typed(http: httpx.AsyncClient, url: str, slack: FakeSlack, text: str, *, hook: str = "c") -> str:
    """Alice types `/leave <text>` at the instance at ``url``: the Submit button's value on its preview.

    The preview is the ack's body, or, while a just-started instance is still reading the leave types,
    posted to the response_url right after an empty ack: either is what Alice sees.
    """
    command = sr.slash_command(text, user_id=ALICE, response_url=slack.response_url(hook))
    ack = await post(http, url, command)
    assert ack.status_code == 200
    if ack.content:
        return preview_value(ack.json())
    (later,) = await slack.wait_for(f"hooks/{hook}", timeout=15)
    return button_value(later.args["blocks"], ids.SUBMIT)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_fifty_clicks_on_two_instances_approve_once(
    instances: list[str], slack: FakeSlack, database_url: str
) -> None:
    """Bob and Carol click Approve 25 times each, spread over both instances at once: one approval, one
    message to Alice, each card updated once, and every other click told it was decided already."""
    first, second = instances
    async with httpx.AsyncClient(timeout=30) as http:
        value = await typed(http, first, slack, DAY.isoformat())
        submit = sr.block_action(
            user_id=ALICE, action_id=ids.SUBMIT, value=value, response_url=slack.response_url("s")
        )
        await post(http, second, sr.interactive(submit))
        cards = await slack.wait_for("chat.postMessage", count=2, timeout=15)
        request_id = button_value(cards[0].args["blocks"], ids.APPROVE)

        clicks = [
            sr.interactive(
                sr.block_action(
                    user_id=(BOB, CAROL)[i % 2],
                    action_id=ids.APPROVE,
                    value=request_id,
                    response_url=slack.response_url(f"click-{i}"),
                )
            )
            for i in range(CLICKS)
        ]
        answers = await asyncio.gather(*(post(http, instances[i % 2], body) for i, body in enumerate(clicks)))
    assert {a.status_code for a in answers} == {200}

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not everyone_told(slack):
        await asyncio.sleep(0.1)
    engine = create_engine(database_url)
    try:
        store = Store(engine)
        request = await store.request(request_id=int(request_id))
        async with engine.connect() as connection:
            approvals = (
                await connection.exec_driver_sql(
                    f"SELECT count(*) FROM audit_log WHERE request_id = {int(request_id)} AND action = 'approve'"
                )
            ).scalar_one()
            booked = (await connection.exec_driver_sql("SELECT status FROM local_leave")).scalars().all()
    finally:
        await engine.dispose()
    assert request is not None and request.status == "approved"
    assert approvals == 1 and booked == ["approved"]
    assert len(told_approved(slack)) == 1
    assert len(slack.calls_to("chat.update")) == 2
    assert len(told_late(slack)) == CLICKS - 1
    FIGURES.update(tried=CLICKS, refused=CLICKS - 1, duplicated=approvals - 1, lost=1 - len(booked))


def everyone_told(slack: FakeSlack) -> bool:
    """Alice told, both cards updated, every late clicker answered: all the work after the clicks is done."""
    return (
        bool(told_approved(slack))
        and len(slack.calls_to("chat.update")) >= 2
        and len(told_late(slack)) >= CLICKS - 1
    )


def told_approved(slack: FakeSlack) -> list[str]:
    """What Alice was told of her request's approval."""
    to_alice = [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]
    return [text for text in to_alice if "was approved" in text]


def told_late(slack: FakeSlack) -> list[str]:
    """Answers to clickers who were not the one that approved."""
    return [
        json.dumps(c.args)
        for c in slack.calls
        if c.method.startswith("hooks/click-")
        and ("already decided" in json.dumps(c.args) or "is deciding" in json.dumps(c.args))
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_decision_made_in_timetastic_reaches_slack_once_with_two_instances_syncing(
    database_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    """Two instances sync Timetastic (its webhooks lost) every second into one PostgreSQL database; Alice's
    request is approved inside Timetastic: every approval card is edited once, with no buttons left, and
    Alice is told once, however many passes both instances run after."""
    with FakeTimetastic() as fake:
        fake.deliver_automatically = False
        settings = {
            "LEAVEBOT_PROVIDER": "timetastic",
            "TIMETASTIC_API_TOKEN": TOKEN,
            "TIMETASTIC_BASE_URL": fake.url,
            "SYNC_INTERVAL": "1s",
        }
        async with running_instances(database_url, slack, tmp_path, **settings) as (first, second):
            engine = create_engine(database_url)
            try:
                store = Store(engine)
                request = await _submitted_through(first, second, slack, store)
                cards = await store.cards(request_id=request.id)
                fake.decide_by_itself(str(request.booking_id), approve=True)
                await slack.wait_for("chat.update", count=len(cards), timeout=20)
                await until_approved_told(slack)
                decided = await _sync_time(store)
                for _ in range(3):  # three more passes, by whichever instance holds the lease
                    decided = await _next_sync(store, after=decided)
                await _until_both_synced(tmp_path)
            finally:
                await engine.dispose()
    updates = slack.calls_to("chat.update")
    assert sorted(u.args["channel"] for u in updates) == sorted(c.channel for c in cards)
    assert len(updates) == len(cards) and all(buttons(u.args["blocks"]) == [] for u in updates)
    assert len(approved_told(slack)) == 1


async def _submitted_through(first: str, second: str, slack: FakeSlack, store: Store) -> LeaveRequest:
    """Alice's request typed on one instance and submitted on the other; returned once its cards are out."""
    async with httpx.AsyncClient(timeout=30) as http:
        submit = sr.block_action(
            user_id=ALICE,
            action_id=ids.SUBMIT,
            value=await typed(http, first, slack, f"{DAY.isoformat()} pm"),
            response_url=slack.response_url("s"),
        )
        await post(http, second, sr.interactive(submit))
    [card, *_] = await slack.wait_for("chat.postMessage", timeout=15)
    request = await store.request(request_id=int(button_value(card.args["blocks"], ids.APPROVE)))
    assert request is not None and request.booking_id is not None
    return request


def approved_told(slack: FakeSlack) -> list[str]:
    """What Alice was told of her request's approval."""
    texts = [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]
    return [t for t in texts if "approved" in t.lower()]


async def until_approved_told(slack: FakeSlack) -> None:
    deadline = time.monotonic() + 20
    while not approved_told(slack):
        assert time.monotonic() < deadline, "Alice was never told"
        await asyncio.sleep(0.1)


async def _until_both_synced(tmp_path: Path) -> None:
    """Wait until each instance's log shows a pass of its own (the lease goes to whoever asks first)."""
    deadline = time.monotonic() + 20
    while not all("synced Timetastic" in log.read_text() for log in tmp_path.glob("instance-*.log")):
        assert time.monotonic() < deadline, "one instance never synced"
        await asyncio.sleep(0.2)


async def _sync_time(store: Store) -> datetime:
    state = await store.sync_state(provider="timetastic")
    assert state is not None and state.near_at is not None
    return state.near_at


async def _next_sync(store: Store, *, after: datetime) -> datetime:
    """Wait for a pass later than ``after``; its time."""
    deadline = time.monotonic() + 20
    while (moment := await _sync_time(store)) <= after:
        assert time.monotonic() < deadline, "no pass ran"
        await asyncio.sleep(0.2)
    return moment
