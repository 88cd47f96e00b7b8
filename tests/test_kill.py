"""`leavebot serve` killed with SIGKILL at an instant after an ack, then started again: the click is done.

A real process on SQLite and on PostgreSQL, the fake Slack, the local provider. Each test presses a
button, waits the given number of milliseconds after the ack, kills the instance (nothing runs on the
way out), starts a new one on the same database, and waits for the outcome: one booking or one decision,
the cards and the answers there. ``LEAVEBOT_KILL_INSTANTS`` (milliseconds, comma-separated) widens the
sweep beyond the suite's few instants.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import slack_requests as sr
from conftest import ALICE, APPROVERS, BOB, CAROL, FIGURES, SECRET
from fakes.slack import FakeSlack
from helpers.cards import button_value
from sqlalchemy import text
from test_e2e import DAY
from test_instances import free_port, healthy, typed

from bot.store import create_engine
from bot.views import ids

INSTANTS = [int(ms) for ms in os.environ.get("LEAVEBOT_KILL_INSTANTS", "5").split(",")]


class Instances:
    """Starts `leavebot serve` processes on one database; the test kills them."""

    def __init__(self, database_url: str, slack: FakeSlack, tmp_path: Path) -> None:
        self.tmp_path, self.started = tmp_path, []
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "LEAVEBOT_", "LOCAL_", "DIGEST_", "WORK_", "SHUTDOWN_"))
        }
        self.env = env | {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "DATABASE_URL": database_url,
            "LOCAL_APPROVERS": APPROVERS,
            "WORK_LEASE": "1",  # a dead instance's work is free a second after it died
        }
        self.started: list[subprocess.Popen[bytes]] = []

    async def start(self) -> str:
        """A new instance, once it answers /healthz; its base URL."""
        port = free_port()
        log = self.log_path(port).open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=self.env | {"PORT": str(port)},
            cwd=self.tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        self.started.append(process)
        url = f"http://127.0.0.1:{port}"
        await healthy(url, process)
        return url

    def log_path(self, port: int | str) -> Path:
        return self.tmp_path / f"instance-{port}.log"

    def log_of(self, url: str) -> str:
        """What the instance at ``url`` logged."""
        return self.log_path(url.rsplit(":", 1)[1]).read_text()

    def kill(self) -> None:
        """SIGKILL the newest instance."""
        self.started[-1].kill()
        self.started[-1].wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


@asynccontextmanager
async def instances(database_url: str, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Instances]:
    started = Instances(database_url, slack, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


async def post(http: httpx.AsyncClient, url: str, body: str) -> httpx.Response:
    return await http.post(f"{url}/slack/events", content=body, headers=sr.signed_headers(body, SECRET))


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait for an outcome the restarted instance brings about."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "the restarted instance never finished the work"
        await asyncio.sleep(0.1)


async def rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


def cards_for(slack: FakeSlack, user: str) -> int:
    """How many approval cards ``user`` was sent (a request resumed after its cards went out has two)."""
    return len(carded(slack, user, distinct=False))


def carded(slack: FakeSlack, user: str, *, distinct: bool = True) -> list[str]:
    """The request ids on the approval cards ``user`` was sent."""
    cards = [
        button_value(c.args["blocks"], ids.APPROVE)
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == user and ids.APPROVE in str(c.args.get("blocks"))
    ]
    return sorted(set(cards)) if distinct else cards


@pytest.mark.parametrize("instant", INSTANTS, ids=[f"{ms}ms" for ms in INSTANTS])
async def test_a_submit_killed_after_its_ack_is_booked_once_by_the_next_instance(
    database_url: str, slack: FakeSlack, tmp_path: Path, instant: int
) -> None:
    """Alice presses Submit; the instance is killed ``instant`` ms after acking; the next one books it, once."""
    async with instances(database_url, slack, tmp_path) as started, httpx.AsyncClient(timeout=30) as http:
        first = await started.start()
        value = await typed(http, first, slack, DAY.isoformat())
        click = sr.block_action(
            user_id=ALICE, action_id=ids.SUBMIT, value=value, response_url=slack.response_url("s")
        )
        assert (await post(http, first, sr.interactive(click))).status_code == 200
        await asyncio.sleep(instant / 1000)
        started.kill()
        await started.start()

        async def booked() -> bool:
            return (
                cards_for(slack, BOB) >= 1
                and cards_for(slack, CAROL) >= 1
                and bool(slack.calls_to("hooks/s"))
            )

        await until(booked)
        requests = await rows(database_url, "SELECT status FROM leave_request")
        bookings = await rows(database_url, "SELECT id FROM local_leave")
    assert requests == [("pending",)] and len(bookings) == 1
    # A card posted just before the kill, and not yet recorded, is posted again: counted, not hidden.
    FIGURES.update(tried=1, reposted=cards_for(slack, BOB) + cards_for(slack, CAROL) - 2)


@pytest.mark.parametrize("instant", INSTANTS, ids=[f"{ms}ms" for ms in INSTANTS])
async def test_an_approval_killed_after_its_ack_is_decided_once_by_the_next_instance(
    database_url: str, slack: FakeSlack, tmp_path: Path, instant: int
) -> None:
    """Bob presses Approve; the instance is killed ``instant`` ms after acking; the next one approves, once."""
    async with instances(database_url, slack, tmp_path) as started, httpx.AsyncClient(timeout=30) as http:
        first = await started.start()
        value = await typed(http, first, slack, DAY.isoformat())
        submit = sr.block_action(
            user_id=ALICE, action_id=ids.SUBMIT, value=value, response_url=slack.response_url("s")
        )
        await post(http, first, sr.interactive(submit))
        [card, *_] = await slack.wait_for("chat.postMessage", count=2, timeout=15)
        request_id = button_value(card.args["blocks"], ids.APPROVE)
        approve = sr.block_action(
            user_id=BOB, action_id=ids.APPROVE, value=request_id, response_url=slack.response_url("a")
        )
        assert (await post(http, first, sr.interactive(approve))).status_code == 200
        await asyncio.sleep(instant / 1000)
        started.kill()
        await started.start()

        async def approved() -> bool:
            told = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]
            return any("approved" in c.args["text"] for c in told)

        await until(approved)
        requests = await rows(database_url, "SELECT status, decided_by FROM leave_request")
        bookings = await rows(database_url, "SELECT status FROM local_leave")
    assert requests == [("approved", BOB)]
    assert [status for (status,) in bookings] == ["approved"]
    edited = [u for u in slack.calls_to("chat.update") if "Approved by" in str(u.args.get("blocks"))]
    assert {u.args["channel"] for u in edited} == {f"D{BOB}", f"D{CAROL}"}
    FIGURES.update(tried=1, reposted=len(edited) - 2)


@pytest.mark.parametrize("grace", ["0", "20"])
async def test_a_stop_with_twenty_submissions_in_flight_loses_none(
    database_url: str, slack: FakeSlack, tmp_path: Path, grace: str
) -> None:
    """SIGTERM right after 20 Submit acks: what the grace (SHUTDOWN_GRACE) did not finish is handed back, and
    the next instance books the rest within 30 s: 20 requests, 20 bookings, two cards each."""
    days = [DAY + timedelta(days=i) for i in range(20)]
    async with instances(database_url, slack, tmp_path) as started, httpx.AsyncClient(timeout=30) as http:
        started.env["SHUTDOWN_GRACE"] = grace
        first = await started.start()
        clicks = []
        for i, day in enumerate(days):
            value = await typed(http, first, slack, day.isoformat(), hook=f"c{i}")
            click = sr.block_action(
                user_id=ALICE, action_id=ids.SUBMIT, value=value, response_url=slack.response_url(f"s{i}")
            )
            clicks.append(sr.interactive(click))
        answers = await asyncio.gather(*(post(http, first, click) for click in clicks))
        assert [a.status_code for a in answers] == [200] * 20
        started.started[-1].terminate()
        # uvicorn stops gracefully, then re-raises SIGTERM so the process ends as signalled
        try:
            assert started.started[-1].wait(timeout=40) in (0, -signal.SIGTERM)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the instance did not stop within 40 s of SIGTERM:\n{started.log_of(first)}")
        assert "Application shutdown complete" in started.log_of(first)
        await started.start()

        async def all_booked() -> bool:
            return len(carded(slack, BOB)) == 20 and len(carded(slack, CAROL)) == 20

        await until(all_booked, timeout=30)
        requests = await rows(database_url, "SELECT status FROM leave_request")
        bookings = await rows(database_url, "SELECT start_date FROM local_leave")
    assert requests == [("pending",)] * 20
    assert sorted(str(start)[:10] for (start,) in bookings) == [day.isoformat() for day in days]
    FIGURES.update(tried=20, reposted=cards_for(slack, BOB) + cards_for(slack, CAROL) - 40)


async def test_a_restart_storm_loses_nothing(database_url: str, slack: FakeSlack, tmp_path: Path) -> None:
    """Five instances in a row, each sent five submissions and killed at a random moment after the last
    ack (a crash loop); once one stays up, all 25 are booked, once each."""
    moments = random.Random(23)
    days = [DAY + timedelta(days=i) for i in range(25)]
    async with instances(database_url, slack, tmp_path) as started, httpx.AsyncClient(timeout=30) as http:
        for round_days in (days[i : i + 5] for i in range(0, 25, 5)):
            url = await started.start()
            for day in round_days:
                key = day.isoformat()
                value = await typed(http, url, slack, key, hook=f"c{key}")
                click = sr.block_action(
                    user_id=ALICE,
                    action_id=ids.SUBMIT,
                    value=value,
                    response_url=slack.response_url(f"s{key}"),
                )
                assert (await post(http, url, sr.interactive(click))).status_code == 200
            await asyncio.sleep(moments.uniform(0, 0.5))
            started.kill()
        await started.start()

        async def all_booked() -> bool:
            return len(carded(slack, BOB)) == 25 and len(carded(slack, CAROL)) == 25

        await until(all_booked, timeout=60)
        requests = await rows(database_url, "SELECT status FROM leave_request")
        bookings = await rows(database_url, "SELECT start_date FROM local_leave")
    assert requests == [("pending",)] * 25
    assert sorted(str(start)[:10] for (start,) in bookings) == [day.isoformat() for day in days]
    FIGURES.update(tried=25, reposted=cards_for(slack, BOB) + cards_for(slack, CAROL) - 50)
