"""The log: one JSON object per line when asked, Bolt's noise gone, and a database outage told twice, not every tick."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from test_secrets import CASES, DAY, run

from bot.jobs import forever
from bot.store import Store, create_engine, upgrade

SCRIPT = """
import logging
from slack_bolt.logger import messages
from bot import logs
logs.configure("INFO", "json")
logs.remember(slack="T0TRIGGER", user="U0ALICE", request=7)
bolt = logging.getLogger("slack_bolt.AsyncApp")
bolt.warning(messages.warning_client_prioritized_and_token_skipped())
bolt.info("Invalid request signature detected (signature: v0=abc, timestamp: 1, body: token=secret)")
logging.getLogger("uvicorn.error").info("Started server process")
"""


def test_json_log_is_one_object_per_line_without_bolts_noise(tmp_path: Path) -> None:
    """LOG_FORMAT=json: each line is an object with time, level, logger, message and the context;
    Bolt's token warning is gone and a refused request's body is never logged."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        "refused a request with an invalid Slack signature",
        "Started server process",
    ]
    assert {"time", "level", "logger", "slack", "user", "request"} <= set(lines[0])
    assert (lines[1]["logger"], lines[1]["user"], lines[1]["request"]) == ("uvicorn.error", "U0ALICE", "7")
    assert "secret" not in result.stderr


async def test_a_database_outage_is_logged_when_it_starts_and_when_it_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop whose database is unreachable for several tries logs one warning, then one when it is back."""
    down = Store(create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/up.db")
    await upgrade(engine)
    up, tries, recovered = Store(engine), [], asyncio.Event()

    async def step() -> None:
        tries.append(1)
        if len(tries) <= 5:
            await down.claim_due(lease=timedelta(seconds=30))
            return
        await up.claim_due(lease=timedelta(seconds=30))
        recovered.set()

    with caplog.at_level(logging.INFO, logger="bot.jobs"):
        loop = asyncio.create_task(forever("background job", step, every=0.001))
        await asyncio.wait_for(recovered.wait(), 30)
        loop.cancel()
    await down.close()
    await engine.dispose()

    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.jobs"]
    assert len(said) == 2, said
    assert said[0][0] == "WARNING" and "the database is not answering" in said[0][1]
    assert said[1][0] == "WARNING" and "the database is back" in said[1][1]
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("name", ["timetastic", "whosoff"])
def test_json_log_of_a_flow_names_each_provider_call_and_its_duration(name: str, tmp_path: Path) -> None:
    """Booking and listing against an HR system's fake with LOG_FORMAT=json: every line is JSON, each
    HTTP call to the HR system is a line with its name and duration (and the leave request it works
    for, once there is one), and no secret is in any line."""
    case = CASES[name]
    with case.fake() as fake:
        env = {
            "LEAVEBOT_PROVIDER": name,
            "DATABASE_URL": f"sqlite:///{tmp_path}/lb.db",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "DEBUG",  # a one-off command logs only errors otherwise
            **case.settings(fake),
        }
        booked = run(tmp_path, env, "request", f"{DAY.isoformat()} pm", "--as", "alice@example.com")
        listed = run(tmp_path, env, "who", DAY.isoformat())

    assert "request #1" in booked.stdout and "Who's off" in listed.stdout, (booked, listed)
    lines = [json.loads(line) for line in (booked.stderr + listed.stderr).splitlines()]  # each line JSON
    calls = [line for line in lines if "call" in line]
    assert {line["provider"] for line in calls} == {name}, calls
    assert all(line["call"].split(" ")[0] in {"GET", "POST", "PUT", "DELETE"} for line in calls), calls
    assert all(isinstance(line["duration_ms"], float) and line["status"] == "200" for line in calls), calls
    booking = [line for line in calls if line["call"].startswith("POST ") and "request" in line]
    assert booking and {line["request"] for line in booking} == {"1"}, calls  # the booking (or its check)
    assert len(calls) >= 3, calls
    assert not any(line["logger"] == "aiosqlite" for line in lines)  # its DEBUG lines hold stored payloads
    out = "".join(done.stdout + done.stderr for done in (booked, listed))
    for secret in case.secrets:
        assert secret not in out
