"""No secret reaches what an operator reads: `leavebot` run from a shell against each HR system's fake.

Each case books a request, lists who is off and then runs with a wrong credential, as an operator
would; everything the process printed or logged (INFO and up, as `leavebot` logs) is searched for every
secret it was given, and for the values derived from them (a signature, a token).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import offiserv, timetap, timetastic, wheniwork, whosoff

DAY = date.today() + timedelta(days=40)
while DAY.weekday() >= 5:
    DAY += timedelta(days=1)


@dataclass(frozen=True)
class Case:
    """One provider: its fake, the settings that reach it, the secrets among them, the one to get wrong."""

    fake: Callable[[], AbstractContextManager[Any]]
    settings: Callable[[Any], dict[str, str]]
    secrets: tuple[str, ...]
    wrong: str  # the variable given a wrong value in the last run


CASES = {
    "timetastic": Case(
        timetastic.FakeTimetastic,
        lambda fake: {"TIMETASTIC_BASE_URL": fake.url, "TIMETASTIC_API_TOKEN": timetastic.TOKEN},
        (timetastic.TOKEN,),
        "TIMETASTIC_API_TOKEN",
    ),
    "wheniwork": Case(
        wheniwork.FakeWhenIWork,
        lambda fake: {
            "WHENIWORK_BASE_URL": fake.url,
            "WHENIWORK_API_KEY": wheniwork.API_KEY,
            "WHENIWORK_USERNAME": wheniwork.USERNAME,
            "WHENIWORK_PASSWORD": wheniwork.PASSWORD,
        },
        (wheniwork.API_KEY, wheniwork.PASSWORD),
        "WHENIWORK_PASSWORD",
    ),
    "whosoff": Case(
        whosoff.FakeWhosOff,
        lambda fake: {
            "WHOSOFF_BASE_URL": fake.url,
            "WHOSOFF_APP_ID": whosoff.APP_ID,
            "WHOSOFF_CLIENT_SECRET": whosoff.CLIENT_SECRET,
            "WHOSOFF_USERNAME": whosoff.USERNAME,
            "WHOSOFF_PASSWORD": whosoff.PASSWORD,
            "WHOSOFF_IP_ADDRESS": whosoff.IP_ADDRESS,
        },
        (whosoff.CLIENT_SECRET, whosoff.PASSWORD),
        "WHOSOFF_PASSWORD",
    ),
    "timetap": Case(
        timetap.FakeTimeTap,
        lambda fake: {
            "TIMETAP_BASE_URL": fake.url,
            "TIMETAP_API_KEY": timetap.API_KEY,
            "TIMETAP_PRIVATE_KEY": timetap.PRIVATE_KEY,
            "TIMETAP_BUSINESS_ID": str(timetap.BUSINESS_ID),
            "TIMETAP_APPROVERS": "*=bob@example.com",
        },
        (timetap.PRIVATE_KEY, timetap.SIGNATURE),
        "TIMETAP_PRIVATE_KEY",
    ),
    "offiserv": Case(
        offiserv.FakeOffiServ,
        lambda fake: {
            "OFFISERV_BASE_URL": fake.url,
            "OFFISERV_EMAIL": offiserv.EMAIL,
            "OFFISERV_PASSWORD": offiserv.PASSWORD,
        },
        (offiserv.PASSWORD,),
        "OFFISERV_PASSWORD",
    ),
}


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `leavebot ARGS` with only ``env`` configured (and no LOG_ setting of the caller's)."""
    own = (
        "SLACK_",
        "LEAVEBOT_",
        "DIGEST_",
        "LOCAL_",
        "LOG_",
        "DATABASE_URL",
        *(f"{n.upper()}_" for n in CASES),
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=clean | env,
    )


def leavebot(cwd: Path, env: dict[str, str], *args: str) -> str:
    """Run `leavebot ARGS` with only ``env`` configured; everything it printed and logged."""
    done = run(cwd, env, *args)
    return done.stdout + done.stderr


@pytest.fixture(params=CASES.keys())
def case(request: pytest.FixtureRequest) -> Iterator[tuple[str, Case, Any]]:
    """A provider's case with its fake running."""
    case = CASES[request.param]
    with case.fake() as fake:
        yield request.param, case, fake


def test_no_secret_in_anything_leavebot_prints(case: tuple[str, Case, Any], tmp_path: Path) -> None:
    """Booking, listing and a refused credential print plain words and never a secret."""
    name, spec, fake = case
    env = {"LEAVEBOT_PROVIDER": name, "DATABASE_URL": f"sqlite:///{tmp_path}/lb.db", **spec.settings(fake)}
    booked = leavebot(tmp_path, env, "request", f"{DAY.isoformat()} pm", "--as", "alice@example.com")
    assert "request #1" in booked, booked
    listed = leavebot(tmp_path, env, "who", DAY.isoformat())
    assert "Who's off" in listed, listed
    refused = leavebot(tmp_path, env | {spec.wrong: "wrong-value"}, "who", DAY.isoformat())
    assert spec.wrong.split("_")[0] in refused and "Traceback" not in refused, refused
    for secret in spec.secrets:
        for output in (booked, listed, refused):
            assert secret not in output, f"{name} printed a secret"
