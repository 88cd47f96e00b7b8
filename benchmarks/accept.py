"""What storing a click before its ack costs: ``Store.accept_delivery`` alone, on SQLite and PostgreSQL.

A Submit, Approve, Cancel or modal submission is written to the store (one insert, one commit) before
Slack gets its 200 (see docs/design.md's reliability section); this times that insert, 1,000 times in a row
on an idle event loop, with a Submit click's payload. The whole ack is timed by ``benchmarks/ack.py``.

    .venv/bin/python benchmarks/accept.py
    .venv/bin/python benchmarks/accept.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import col, delete

from bot.store import Store, create_engine, upgrade
from bot.store.tables import SlackDelivery

ROUNDS = 1000
PAYLOAD = {
    "type": "block_actions",
    "user": {"id": "U0ALICE", "username": "alice", "team_id": "T0001"},
    "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
    "actions": [{"action_id": "leave_submit", "value": "x" * 600, "type": "button"}],
}


async def measure(url: str) -> list[float]:
    """Milliseconds per accept, sorted; the rows are deleted afterwards."""
    engine = create_engine(url)
    await upgrade(engine)
    store, run, times = Store(engine), uuid.uuid4().hex, []
    for i in range(ROUNDS):
        began = time.perf_counter()
        await store.accept_delivery(
            key=f"bench-{run}-{i}", work="submit_preview", body=PAYLOAD, lease=timedelta(seconds=30)
        )
        times.append((time.perf_counter() - began) * 1000)
    async with store.session() as session:
        await session.exec(delete(SlackDelivery).where(col(SlackDelivery.key).startswith(f"bench-{run}-")))
        await session.commit()
    await engine.dispose()
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        urls = {"SQLite (WAL)": f"sqlite+aiosqlite:///{workdir}/bench.db", "PostgreSQL": args.postgres}
        print(f"Store.accept_delivery, {ROUNDS} in a row, ms")
        print("| database | p50 | p90 | p99 |\n| --- | --- | --- | --- |")
        for name, url in urls.items():
            try:
                times = asyncio.run(measure(url))
            except OSError as exc:
                print(f"| {name} | skipped: {exc} | | |")
                continue
            p = [times[int(len(times) * q)] for q in (0.5, 0.9, 0.99)]
            print(f"| {name} | {p[0]:.2f} | {p[1]:.2f} | {p[2]:.2f} |")


if __name__ == "__main__":
    main()
