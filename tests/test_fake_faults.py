"""The transport faults every fake shares (``fakes.loopback``): fail, stall and drop the next calls."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fakes.hr import FakeHR
from fakes.loopback import Loopback
from fakes.offiserv import FakeOffiServ
from fakes.slack import FakeSlack
from fakes.timetap import FakeTimeTap
from fakes.timetastic import FakeTimetastic
from fakes.wheniwork import FakeWhenIWork
from fakes.whosoff import FakeWhosOff

FAKES = [FakeSlack, FakeHR, FakeOffiServ, FakeTimeTap, FakeTimetastic, FakeWhenIWork, FakeWhosOff]


@pytest.fixture(params=FAKES, ids=lambda cls: cls.__name__)
def fake(request: pytest.FixtureRequest) -> Iterator[Loopback]:
    with request.param() as started:
        yield started


def get(fake: Loopback, path: str, timeout: float = 5.0) -> httpx.Response:
    return httpx.get(f"{fake.root}{path}", timeout=timeout)


def test_fail_next_answers_the_status_and_retry_after_for_matching_calls_only(fake: Loopback) -> None:
    """The next two calls to the path answer 429 with Retry-After; another path, and the third call, are served."""
    normal = get(fake, "/api/other").status_code
    fake.fail_next(2, status=429, retry_after=7, path="/api/thing")
    assert get(fake, "/api/other").status_code == normal
    failed = [get(fake, "/api/thing") for _ in range(2)]
    assert [(r.status_code, r.headers.get("Retry-After")) for r in failed] == [(429, "7")] * 2
    assert get(fake, "/api/thing").status_code != 429
    calls = getattr(fake, "calls")  # noqa: B009 - each fake keeps its own Call shape
    assert len(calls) == 5  # recorded first, faulted second


def test_fail_next_without_retry_after_sends_none(fake: Loopback) -> None:
    """A 503 with no Retry-After given says none."""
    fake.fail_next(status=503)
    answer = get(fake, "/any")
    assert answer.status_code == 503 and "Retry-After" not in answer.headers


def test_stall_next_answers_late(fake: Loopback) -> None:
    """A stalled call is answered as usual, after the stall; the next is not stalled."""
    usual = get(fake, "/api/x").status_code
    fake.stall_next(seconds=0.5, path="/api/x")
    began = time.monotonic()
    assert get(fake, "/api/x").status_code == usual
    assert time.monotonic() - began >= 0.5
    with pytest.raises(httpx.TimeoutException):
        fake.stall_next(seconds=1.0)
        get(fake, "/api/x", timeout=0.2)


def test_drop_next_closes_without_answering(fake: Loopback) -> None:
    """A dropped call gets no answer at all; the next call is answered."""
    usual = get(fake, "/api/x").status_code
    fake.drop_next(path="/api/x")
    with pytest.raises(httpx.RemoteProtocolError):
        get(fake, "/api/x")
    assert get(fake, "/api/x").status_code == usual
