"""The store on SQLite and PostgreSQL: what must happen once is decided by the database, across instances."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text, update
from sqlmodel import col, select

from bot.config import Settings
from bot.jobs import digest_due
from bot.store import Store, create_engine, upgrade
from bot.store.migrate import alembic_config
from bot.store.tables import DigestPost, LeaveRequest, SlackDelivery, SlackUser, now

DAY = date(2026, 11, 23)
STALE = timedelta(minutes=10)


@pytest.fixture
async def other_store(store: Store, database_url: str) -> AsyncIterator[Store]:
    """A second Store with its own engine on the same database: another bot instance."""
    other = Store(create_engine(database_url))
    yield other
    await other.close()


def leave_request(key: str) -> LeaveRequest:
    """A new pending request under idempotency key ``key``."""
    return LeaveRequest(
        idempotency_key=key,
        provider="local",
        status="pending",
        requester_person_id="alice@example.com",
        requester_name="Alice Archer",
        start_date=DAY,
        end_date=DAY,
        start_part="AM",
        end_part="PM",
    )


async def backdate_claim(store: Store, *, channel: str, by: timedelta) -> None:
    """Pretend the digest claim for ``channel`` on DAY was taken ``by`` ago."""
    query = (
        update(DigestPost)
        .where(col(DigestPost.channel) == channel, col(DigestPost.day) == DAY)
        .values(claimed_at=now() - by)
    )
    async with store.session() as session:
        await session.exec(query)
        await session.commit()


async def test_migrations_apply_twice(store: Store) -> None:
    """Upgrading an up-to-date database again succeeds and leaves it at the head revision."""
    await upgrade(store.engine)

    async with store.engine.connect() as connection:
        version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_first_delivery_is_true_only_once(store: Store) -> None:
    """A delivery key is new the first time and a retry every time after."""
    assert await store.first_delivery(key="Ev001") is True
    assert await store.first_delivery(key="Ev001") is False
    assert await store.first_delivery(key="Ev002") is True


async def test_deliveries_accepted_at_once_are_each_accepted_once(store: Store, other_store: Store) -> None:
    """Acks accepting deliveries at the same moment (committed together) each hear whether theirs was new:
    a key twice in one moment, or already stored by another instance, is accepted once; every body is kept."""
    lease = timedelta(minutes=5)
    assert await other_store.accept_delivery(key="T-taken", work="submit", body={"n": -1}, lease=lease)
    keys = [f"T{n}" for n in range(30)] + ["T3", "T-taken"]
    accepted = await asyncio.gather(
        *(
            store.accept_delivery(key=key, work="submit", body={"n": n}, lease=lease)
            for n, key in enumerate(keys)
        )
    )
    assert accepted == [True] * 30 + [False, False]
    async with store.session() as session:
        stored = {row.key: row for row in (await session.exec(select(SlackDelivery))).all()}
    assert set(stored) == {*keys}
    assert [json.loads(stored[f"T{n}"].body) for n in range(30)] == [{"n": n} for n in range(30)]
    assert json.loads(stored["T-taken"].body) == {"n": -1} and stored["T3"].attempts == 1


async def test_forget_deliveries_drops_only_old_keys(store: Store) -> None:
    """Keys received before the cut-off are forgotten; newer ones still mark retries."""
    await store.first_delivery(key="old")
    async with store.session() as session:
        query = update(SlackDelivery).where(col(SlackDelivery.key) == "old")
        await session.exec(query.values(received_at=now() - timedelta(hours=2)))
        await session.commit()
    await store.first_delivery(key="new")

    await store.forget_deliveries(before=now() - timedelta(hours=1))

    assert await store.first_delivery(key="old") is True
    assert await store.first_delivery(key="new") is False


async def test_create_request_is_idempotent(store: Store) -> None:
    """A second request under the same idempotency key returns the first row, not a new one."""
    first, created = await store.create_request(request=leave_request("view-1"))
    again, created_again = await store.create_request(request=leave_request("view-1"))

    assert created is True
    assert created_again is False
    assert first.id is not None
    assert again.id == first.id


async def test_concurrent_moves_from_two_instances_succeed_once(store: Store, other_store: Store) -> None:
    """Of 20 concurrent moves out of pending, split over two instances, exactly one wins."""
    request, _ = await store.create_request(request=leave_request("race"))
    assert request.id is not None

    results = await asyncio.gather(
        *(
            (store, other_store)[i % 2].move_request(
                request_id=request.id, from_status=["pending"], to_status="approved", decided_by=f"U{i:03d}"
            )
            for i in range(20)
        )
    )

    assert results.count(True) == 1
    moved = await other_store.request(request_id=request.id)
    assert moved is not None
    assert moved.status == "approved"
    assert moved.decided_by == f"U{results.index(True):03d}"


async def test_concurrent_digest_claims_from_two_instances_succeed_once(
    store: Store, other_store: Store
) -> None:
    """Of concurrent claims on one channel's digest for a day, from two instances, exactly one wins."""
    results = await asyncio.gather(
        *(
            (store, other_store)[i % 2].claim_digest(channel="C1", day=DAY, stale_after=STALE)
            for i in range(10)
        )
    )

    assert results.count(True) == 1


async def test_unposted_claim_is_claimable_again_only_once_stale(store: Store) -> None:
    """A claim never marked posted can be taken over after ``stale_after``, and not before."""
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is True
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is False

    await backdate_claim(store, channel="C1", by=STALE - timedelta(minutes=1))
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is False

    await backdate_claim(store, channel="C1", by=STALE + timedelta(minutes=1))
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is True
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is False


async def test_posted_digest_is_never_claimable(store: Store) -> None:
    """Once posted, a channel's digest for the day cannot be claimed again, however old the claim."""
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is True
    await store.digest_posted(channel="C1", day=DAY, ts="1764000000.000100")
    await backdate_claim(store, channel="C1", by=timedelta(days=1))
    await store.release_digest(channel="C1", day=DAY)

    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is False
    assert await store.claim_digest(channel="C1", day=DAY + timedelta(days=1), stale_after=STALE) is True
    assert await store.claim_digest(channel="C2", day=DAY, stale_after=STALE) is True


async def test_released_claim_is_claimable_at_once(store: Store) -> None:
    """Releasing a claim after a failed post lets the next attempt claim it straight away."""
    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is True

    await store.release_digest(channel="C1", day=DAY)

    assert await store.claim_digest(channel="C1", day=DAY, stale_after=STALE) is True


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        # Monday 15 June 2026: London is on BST (UTC+1), so 09:00 there is 08:00 UTC.
        pytest.param(datetime(2026, 6, 15, 8, 0, tzinfo=UTC), True, id="at-digest-time-local"),
        pytest.param(datetime(2026, 6, 15, 10, 59, tzinfo=UTC), True, id="later-that-morning"),
        pytest.param(datetime(2026, 6, 15, 7, 59, tzinfo=UTC), False, id="a-minute-before"),
        pytest.param(datetime(2026, 6, 15, 11, 0, tzinfo=UTC), False, id="three-hours-late"),
        pytest.param(datetime(2026, 6, 15, 16, 0, tzinfo=UTC), False, id="afternoon"),
        pytest.param(datetime(2026, 6, 20, 8, 30, tzinfo=UTC), False, id="saturday"),
        # Monday 23 November 2026: London is on GMT, so 09:00 there is 09:00 UTC.
        pytest.param(datetime(2026, 11, 23, 8, 30, tzinfo=UTC), False, id="winter-before"),
        pytest.param(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), True, id="winter-at"),
    ],
)
def test_digest_due_on_weekdays_from_digest_time_in_its_zone(moment: datetime, due: bool) -> None:
    """The digest is due on a weekday from DIGEST_TIME in DIGEST_TIMEZONE until three hours after it."""
    london = Settings(_env_file=None, digest_time="09:00", digest_timezone="Europe/London")

    assert digest_due(london, moment) is due


async def test_saving_the_same_new_slack_user_twice_at_once_keeps_one_row(store: Store) -> None:
    """Two tasks recording the same new Slack user concurrently both succeed, leaving one row."""
    users = [SlackUser(slack_user_id="U0RACE", email="race@example.com", name=f"Race {i}") for i in range(2)]
    await asyncio.gather(*(store.save_slack_user(user=u) for u in users))
    saved = await store.slack_user(slack_user_id="U0RACE")
    assert saved is not None and saved.name in ("Race 0", "Race 1")
