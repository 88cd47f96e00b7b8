"""The absence mirror at a big company's size: readers that never wait for the HR system, and what the sync
passes that keep it in step cost each HR system.

    nice -n 19 .venv/bin/python benchmarks/sync.py [--people 10000] [--absences 800] [--latency 2] [--runs 100]
        [--providers offiserv ...] [--no-readers]

1. **Readers against a slow HR system.** leavebot served over HTTP as `leavebot serve` serves it (SQLite, the
   tests' fake Slack) on ``FakeHR`` (``tests/fakes/hr.py``: every call ``--latency`` seconds late, 5 calls a
   second, 100 absences a page) holding ``--people`` people and ``--absences`` off today (plus a quarter more
   later this week and as many pending, declined or cancelled), its mirror filled by the sync loop's first
   round (public holidays and a full pass). Then `/leave who` typed ``--runs`` times, one after another, each
   timed from the POST to its answer at the response_url, and the digest posted ``--runs // 5`` times (a fresh
   channel each, so each one is built), with the HR calls counted over both.
2. **Passes per provider.** Each HR system's fake (``tests/fakes``) and ``local`` holding ``--people`` people
   and ``--absences`` absences over the next two weeks (where a near pass looks: the worst case for it): a
   full pass (the first, filling the mirror), a near pass with nothing changed, and a near pass after 10
   bookings made, 5 moved and 5 removed in the HR system (each change announced: cards, DMs, Homes). Calls
   by path, seconds (loopback fakes: the time is the provider's own pacing and parsing, plus the fake's
   work), and the average rate at the default SYNC_INTERVAL (5 min near passes, a full pass every 30 min)
   beside the provider's documented limit (../shared/reference/providers.md).
3. **The mirror's size** after the full pass: rows, bytes of the ``absence_mirror`` table and its indexes in
   SQLite (``dbstat``), and the Python heap peak of one full pass (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import SECRET, Bot
from digest import _remember  # the store's Slack cache, as the digest benchmark fills it
from fakes import offiserv, timetap, wheniwork, whosoff
from fakes.hr import FakeHR, FakeHRProvider, company
from fakes.slack import FakeSlack
from remote_bot import serving
from test_sync_changes import HRS

from bot.app import create_app, slack_client
from bot.config import Settings
from bot.listeners import ListenerDeps
from bot.server import create_server
from bot.services.digest import post_digest
from bot.services.sync import SyncReport
from bot.services.wiring import Services
from bot.store import Store, create_engine, upgrade
from bot.store.tables import now

# Each provider's documented limit (../shared/reference/providers.md, section 0), as calls per second.
LIMITS: dict[str, tuple[float | None, str]] = {
    "timetastic": (5.0, "5 req/s per key [C]"),
    "wheniwork": (100 / 60, "100 req/min per user and key (legacy) [C]; current: rolling windows"),
    "whosoff": (None, '"fair usage", not numeric [C]'),
    "timetap": (None, "not documented [U]"),
    "offiserv": (None, "not documented [U]"),
    "local": (None, "leavebot's own database: no HR system"),
}
ID = re.compile(
    r"/(?=[0-9a-f]*\d)[0-9a-f]{2,}(?=/|$)"
)  # a path segment that is an id (TimeTap's, OffiServ's)
NEAR_PER_HOUR, FULL_PER_HOUR = 12, 2  # SYNC_INTERVAL=5m: a near pass each interval, a full pass every six


def weekday_on_or_after(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (p99 of 100 runs is the slowest but one)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


# -- 1. readers against a slow HR system ---------------------------------------------------------------


async def readers(people: int, absences: int, latency: float, runs: int) -> dict[str, Any]:
    """`/leave who` and the digest on a mirror filled from an HR system answering ``latency`` s late."""
    day = weekday_on_or_after(date.today())
    with FakeSlack() as slack, FakeHR(latency=latency) as hr, tempfile.TemporaryDirectory() as tmp:
        everyone = company(hr, people=people, absences=absences, day=day)
        provider = FakeHRProvider(FakeHRProvider.Config(base_url=hr.url), http=httpx.AsyncClient(timeout=60))
        async with served(provider, slack, Path(tmp)) as (bot, engine):
            await _remember(engine, everyone[: int(len(everyone) * 0.9)])
            began = time.perf_counter()
            first = await bot.service.sync.run_due(
                now()
            )  # as the sync loop's first round: holidays, full pass
            filled = time.perf_counter() - began
            assert first is not None and first.full
            calls = len(hr.calls)
            who_s, ack_s = [], []
            for i in range(runs):
                began = time.perf_counter()
                response = await bot.command("who", hook=f"who-{i}")
                ack_s.append(time.perf_counter() - began)
                assert response.status_code == 200
                while not slack.calls_to(f"hooks/who-{i}"):
                    await asyncio.sleep(0.001)
                who_s.append(time.perf_counter() - began)
            who_calls = len(hr.calls) - calls
            digest_s = []
            for i in range(max(1, runs // 5)):
                began = time.perf_counter()
                posted = await post_digest(bot.service.deps, day=day, channels=[f"C0DIGEST{i}"])
                digest_s.append(time.perf_counter() - began)
                assert posted == {f"C0DIGEST{i}": True}
            answer = json.dumps(slack.calls_to("hooks/who-0")[0].args)
        return {
            "people": people,
            "off_today": absences,
            "latency_s": latency,
            "fill_s": round(filled, 2),
            "fill_calls": calls,
            "who_runs": runs,
            "who_p50_ms": round(statistics.median(who_s) * 1000, 1),
            "who_p99_ms": round(percentile(who_s, 0.99) * 1000, 1),
            "who_ack_p99_ms": round(percentile(ack_s, 0.99) * 1000, 1),
            "who_hr_calls": who_calls,
            "digest_runs": len(digest_s),
            "digest_p50_ms": round(statistics.median(digest_s) * 1000, 1),
            "digest_p99_ms": round(percentile(digest_s, 0.99) * 1000, 1),
            "digest_hr_calls": len(hr.calls) - calls - who_calls,
            "who_names_people": f"{absences} people off" in answer,
        }


@asynccontextmanager
async def served(provider: Any, slack: FakeSlack, tmp: Path) -> AsyncIterator[tuple[Bot, Any]]:
    """leavebot on ``provider`` built and served as `leavebot serve` does (``remote_bot.provider_bot`` takes
    only registered providers); the bot the tests drive, and its engine."""
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        database_url=f"sqlite:///{tmp}/leavebot.db",
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    client = slack_client(settings)
    service = Services(provider=provider, store=Store(engine), slack=client, zone=settings.zone)
    await service.warm_up()
    listeners = ListenerDeps(services=service, settings=settings)
    server = create_server(create_app(listeners, slack=client), service.deps.store, stopping=listeners.stop)
    try:
        async with serving(server) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
            yield Bot(http, slack, service, provider, settings, listeners), engine
    finally:
        await provider.aclose()
        await engine.dispose()


# -- 2. passes per provider ----------------------------------------------------------------------------


def _names(n: int) -> tuple[str, str, str]:
    return f"First{n:05d}", f"Last{n:05d}", f"person{n:05d}@example.com"


def _seed_timetastic(fake: Any, people: int) -> list[Any]:
    ids = [10_000 + n for n in range(people)]
    for n, person in enumerate(ids):
        fake.add_user(person, *_names(n))
    return ids


def _seed_wheniwork(fake: Any, people: int) -> list[Any]:
    ids = [10_000 + n for n in range(people)]
    with fake._lock:
        fake.users += [
            wheniwork._user(p, *_names(n), wheniwork.EMPLOYEE, [wheniwork.DOWNTOWN])
            for n, p in enumerate(ids)
        ]
    return ids


def _seed_whosoff(fake: Any, people: int) -> list[Any]:
    ids = [10_000 + n for n in range(people)]
    with fake._lock:
        fake.users += [whosoff._user(p, *_names(n)) for n, p in enumerate(ids)]
    return ids


def _seed_timetap(fake: Any, people: int) -> list[Any]:
    ids = [10_000 + n for n in range(people)]
    with fake._lock:
        fake.staff += [timetap._staff(p, *_names(n)) for n, p in enumerate(ids)]
    return ids


def _seed_offiserv(fake: Any, people: int) -> list[Any]:
    keys = [f"p{n:05d}" for n in range(people)]
    with fake._lock:
        fake.users |= {k: offiserv.FakeUser(k, *_names(n)) for n, k in enumerate(keys)}
    return keys


def _seed_local(_: Any, people: int) -> list[Any]:
    return [_names(n)[2] for n in range(people)]  # the local provider's people are their e-mail addresses


SEEDS: dict[str, Callable[[Any, int], list[Any]]] = {
    "timetastic": _seed_timetastic,
    "wheniwork": _seed_wheniwork,
    "whosoff": _seed_whosoff,
    "timetap": _seed_timetap,
    "offiserv": _seed_offiserv,
    "local": _seed_local,
}


def _calls(fake: Any) -> list[str]:
    """The calls a fake received, by method and path, ids as ``{id}`` (local: none, it is the bot's database)."""
    return [f"{c.method} {ID.sub('/{id}', c.path.split('?')[0])}" for c in getattr(fake, "calls", [])]


async def _timed_pass(
    services: Services, fake: Any, *, full: bool
) -> tuple[SyncReport, float, Counter[str], int | None]:
    """A pass, its seconds, the calls it made by path and the most the fake served at once (None: local)."""
    before = len(_calls(fake))
    if hasattr(fake, "peak_in_flight"):
        fake.peak_in_flight = 0
    began = time.perf_counter()
    report = await services.sync.run_pass(full=full)
    seconds = time.perf_counter() - began
    print(
        f"  {'full' if full else 'near'} pass: {seconds:.1f} s, {len(_calls(fake)) - before} calls, "
        f"{getattr(fake, 'peak_in_flight', None)} at once at the HR system",
        flush=True,
    )  # as it is done: a long run keeps what it measured
    assert report is not None, (
        f"the pass failed after {seconds:.1f} s, {len(_calls(fake)) - before} calls"
        f"{'' if not hasattr(fake, 'peak_in_flight') else f', at most {fake.peak_in_flight} at once'}"
    )
    return report, seconds, Counter(_calls(fake)[before:]), getattr(fake, "peak_in_flight", None)


async def passes(name: str, people: int, absences: int) -> dict[str, Any]:
    """A full pass, a quiet near pass and a near pass after 20 changes on one provider's fake."""
    hr = HRS[name]
    today = date.today()
    days = [d for d in (today + timedelta(days=i) for i in range(1, 15)) if d.weekday() < 5]
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leavebot.db"
        with hr.fake(path) as fake:
            if hasattr(fake, "deliver_automatically"):
                fake.deliver_automatically = False
            if hasattr(fake, "rate_limit"):
                fake.rate_limit = None  # the provider paces itself at the documented limit; the fake's own
                # one-second window would also count this process's clock skew against it
            settings = Settings(
                _env_file=None,
                slack_bot_token="xoxb-test",
                slack_api_url=slack.url,
                database_url=f"sqlite:///{path}",
            )
            engine = create_engine(settings.database_url)
            await upgrade(engine)
            provider = hr.connect(fake)
            services = Services(provider=provider, store=Store(engine), slack=slack_client(settings))
            everyone = SEEDS[name](fake, people)
            booked = [
                fake.book_by_itself(everyone[i * 7 % people], days[i % len(days)]) for i in range(absences)
            ]
            full, full_s, full_calls, full_peak = await _timed_pass(services, fake, full=True)
            quiet, quiet_s, quiet_calls, quiet_peak = await _timed_pass(services, fake, full=False)
            for i in range(10):
                fake.book_by_itself(everyone[(i * 13 + 1) % people], days[i % len(days)])
            for booking in booked[:5]:
                fake.move_by_itself(booking, days[-1])
            for booking in booked[5:10]:
                fake.remove_by_itself(booking)
            changed, changed_s, changed_calls, changed_peak = await _timed_pass(services, fake, full=False)
            tracemalloc.start()
            await services.sync.run_pass(full=True)
            heap_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            await provider.aclose()
            await engine.dispose()
            table = _table_bytes(path)
    rate, limit = LIMITS[name]
    hourly = NEAR_PER_HOUR * sum(quiet_calls.values()) + FULL_PER_HOUR * sum(full_calls.values())
    return {
        "provider": name,
        "full": {"listed": full.listed, "calls": dict(full_calls), "s": round(full_s, 2), "peak": full_peak},
        "near_quiet": {
            "listed": quiet.listed,
            "calls": dict(quiet_calls),
            "s": round(quiet_s, 2),
            "peak": quiet_peak,
        },
        "near_changed": {
            "listed": changed.listed,
            "changes": f"{len(changed.changes.new)} new, {len(changed.changes.changed)} changed, "
            f"{changed.changes.hidden} hidden",
            "calls": dict(changed_calls),
            "s": round(changed_s, 2),
            "peak": changed_peak,
        },
        "calls_per_hour": hourly,
        "share_of_limit": round(hourly / 3600 / rate, 5) if rate else None,
        "limit": limit,
        "mirror_rows": full.listed,
        "mirror_bytes": table,
        "pass_heap_peak_bytes": heap_peak,
    }


def _table_bytes(path: Path) -> int | None:
    """Bytes of the absence_mirror table and its indexes in the SQLite file (None without dbstat)."""
    with sqlite3.connect(path) as db:
        try:
            indexes = [
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'absence_mirror'")
            ]
            marks = ",".join("?" * len(indexes))
            return int(
                db.execute(f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({marks})", indexes).fetchone()[0]
            )
        except sqlite3.OperationalError:
            return None


# -- report --------------------------------------------------------------------------------------------


def report(figures: dict[str, Any]) -> str:
    """The figures as a few readable lines and a table."""
    lines = []
    if r := figures.get("readers"):
        lines += [
            f"readers on a mirror of {r['people']:,} people, {r['off_today']} off today, the HR system answering "
            f"every call {r['latency_s']:g} s late (filled by the first round in {r['fill_s']:.1f} s, {r['fill_calls']} calls):",
            f"  /leave who x{r['who_runs']}: answer p50 {r['who_p50_ms']:.1f} ms, p99 {r['who_p99_ms']:.1f} ms "
            f"(ack p99 {r['who_ack_p99_ms']:.1f} ms); HR calls {r['who_hr_calls']}",
            f"  digest x{r['digest_runs']} (built and posted, a thread): p50 {r['digest_p50_ms']:.1f} ms, "
            f"p99 {r['digest_p99_ms']:.1f} ms; HR calls {r['digest_hr_calls']}",
            "",
        ]
    lines += [
        "| provider | full pass: listed, calls, s | near pass, nothing changed | near pass after 20 changes "
        "| calls/h at 5m | share of documented limit | mirror bytes | pass heap peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in figures["passes"]:
        cells = []
        for key in ("full", "near_quiet", "near_changed"):
            f = p[key]
            peak = "" if f["peak"] is None else f", {f['peak']} at once"
            cells.append(f"{f['listed']} listed, {sum(f['calls'].values())} calls{peak}, {f['s']:.2f} s")
        share = (
            f"{p['share_of_limit']:.2%} of {p['limit']}" if p["share_of_limit"] is not None else p["limit"]
        )
        size = f"{p['mirror_bytes'] / 1024:.0f} KiB" if p["mirror_bytes"] else "n/a"
        lines.append(
            f"| {p['provider']} | {' | '.join(cells)} | {p['calls_per_hour']} | {share} | {size} "
            f"| {p['pass_heap_peak_bytes'] / 2**20:.1f} MiB |"
        )
    lines.append("")
    lines += [
        f"{p['provider']} calls: full {p['full']['calls']}; near {p['near_changed']['calls']}"
        for p in figures["passes"]
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--absences", type=int, default=800)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per HR call for the readers")
    parser.add_argument(
        "--runs", type=int, default=100, help="/leave who typed this often (the digest a fifth)"
    )
    parser.add_argument("--providers", nargs="*", default=list(SEEDS), choices=list(SEEDS))
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-readers", action="store_true", help="only the passes (part 2 and 3)")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    if not args.no_readers:
        figures["readers"] = asyncio.run(readers(args.people, args.absences, args.latency, args.runs))
        print(json.dumps(figures["readers"]), flush=True)  # each part as it is done: a long run keeps it
    figures["passes"] = []
    for name in args.providers:
        try:
            figures["passes"].append(asyncio.run(passes(name, args.people, args.absences)))
        except AssertionError as exc:  # a pass that failed (a timeout): the others still run
            print(f"{name}: {exc}", flush=True)
            continue
        print(json.dumps(figures["passes"][-1]), flush=True)
    print(json.dumps(figures, indent=2) if args.json else report(figures))


if __name__ == "__main__":
    main()
