"""The digest of a big company, against a remote HR system with real latency and a rate limit.

    .venv/bin/python benchmarks/digest.py [--people 10000] [--absences 800] [--latency 0.1] [--rate 5]

Builds and posts one day's digest the way `leavebot serve` does (claim, public holidays, one
listing of the week's absences, names from the store's Slack cache, the thread) against the
tests' fake Slack and the fake HR API (``tests/fakes/hr.py``: every call ``--latency`` late,
at most ``--rate`` calls a second, 100 absences a page), on a fresh SQLite store where 90% of
people are known Slack users. Prints the provider calls, the wall time, the time spent waiting on
the rate limit, and the blocks and messages produced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes.hr import FakeHR, FakeHRProvider, company
from fakes.slack import FakeSlack

from bot.app import slack_client
from bot.config import Settings
from bot.services.calendar import DigestPlan
from bot.services.digest import post_digest
from bot.services.wiring import Services
from bot.store import Store, create_engine, upgrade
from bot.store.tables import SlackUser, now
from bot.views.whos_off import message_chars

DAY = date(2026, 11, 24)  # a Tuesday
CHANNEL = "C0DIGEST"


async def run(people: int, absences: int, latency: float, rate: int | None, known: float) -> dict[str, Any]:
    """Post one digest and measure it (``rate`` None: no rate limit anywhere, for comparison)."""
    with (
        FakeSlack() as slack,
        FakeHR(latency=latency, rate_limit=rate) as hr,
        tempfile.TemporaryDirectory() as tmp,
    ):
        everyone = company(hr, people=people, absences=absences, day=DAY)
        settings = Settings(
            _env_file=None,
            slack_bot_token="xoxb-test",
            slack_api_url=slack.url,
            database_url=f"sqlite:///{tmp}/bench.db",
            digest_channel=CHANNEL,
        )
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        await _remember(engine, everyone[: int(len(everyone) * known)])
        config = FakeHRProvider.Config(base_url=hr.url, paced=rate is not None)
        provider = FakeHRProvider(config, http=httpx.AsyncClient(timeout=30))
        service = Services(provider=provider, store=Store(engine), slack=slack_client(settings))
        began = time.perf_counter()
        posted = await post_digest(service.deps, day=DAY, plan=DigestPlan.from_settings(settings))
        wall = time.perf_counter() - began
        again = time.perf_counter()
        await post_digest(service.deps, day=DAY, plan=DigestPlan.from_settings(settings))
        second = time.perf_counter() - again
        await provider.aclose()
        await engine.dispose()
        messages = slack.messages_in(CHANNEL)
        off = [
            a
            for a in hr.absences.values()
            if a["status"] == "approved" and a["start"] <= str(DAY) <= a["end"]
        ]
        return {
            "people": people,
            "absences_in_hr": len(hr.absences),
            "off_today": len(off),
            "latency_s": latency,
            "rate_limit_per_s": rate,
            "posted": posted[CHANNEL],
            "provider_calls": len(hr.calls),
            "provider_calls_by_path": dict(provider.calls),
            "throttled_429": hr.throttled,
            "wall_s": round(wall, 3),
            "rate_limit_wait_s": round(provider.limiter.longest, 3),
            "rate_limit_wait_summed_s": round(provider.limiter.waited, 3),
            "second_run_s": round(second, 4),
            "messages": len(messages),
            "thread_replies": sum(1 for m in messages if m["thread_ts"]),
            "blocks_per_message": [len(m["blocks"]) for m in messages],
            "chars_per_message": [message_chars(m["blocks"]) for m in messages],
            "longest_section": max(
                len(b["text"]["text"]) for m in messages for b in m["blocks"] if b["type"] == "section"
            ),
            "slack_calls": _count(c.method for c in slack.calls),
        }


async def _remember(engine: Any, people: list[tuple[str, str]]) -> None:
    rows = [
        {"slack_user_id": f"U{n:08d}", "email": email, "name": email, "person_id": pid, "updated_at": now()}
        for n, (pid, email) in enumerate(people)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(SlackUser), rows)


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def report(figures: dict[str, Any]) -> str:
    """The figures as a few readable lines."""
    f = figures
    return "\n".join(
        [
            f"digest of {f['people']:,} people, {f['off_today']} off today "
            f"({f['absences_in_hr']:,} absences in the HR system, any status, this week)",
            f"provider: {f['provider_calls']} calls {f['provider_calls_by_path']}, {f['throttled_429']} answered 429; "
            f"latency {f['latency_s'] * 1000:.0f} ms, limit {f['rate_limit_per_s']}/s",
            f"wall time {f['wall_s']:.2f} s; waiting on the rate limit {f['rate_limit_wait_s']:.2f} s "
            f"(the longest wait of one page fetched alongside the others; {f['rate_limit_wait_summed_s']:.2f} s "
            f"summed over all); with no rate limit at all: {f['unlimited_wall_s']:.2f} s",
            f"slack: {f['messages']} messages ({f['thread_replies']} in the thread), "
            f"blocks {f['blocks_per_message']}, characters {f['chars_per_message']}, "
            f"longest section {f['longest_section']}; calls {f['slack_calls']}",
            f"a second run the same day: {f['second_run_s'] * 1000:.1f} ms, nothing posted (the claim)",
        ]
    )


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--absences", type=int, default=800, help="people off on the digest's day")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per HR API call")
    parser.add_argument("--rate", type=int, default=5, help="HR API calls allowed per second")
    parser.add_argument("--known", type=float, default=0.9, help="share of people the store knows in Slack")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    figures = asyncio.run(run(args.people, args.absences, args.latency, args.rate, args.known))
    figures["unlimited_wall_s"] = asyncio.run(
        run(args.people, args.absences, args.latency, None, args.known)
    )["wall_s"]
    print(json.dumps(figures, indent=2) if args.json else report(figures))


if __name__ == "__main__":
    main()
