"""The absence mirror: the HR system's bookings as the last sync pass saw them, and each provider's sync lease."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.base import StoreBase
from bot.store.tables import MirroredAbsence, SyncState, now
from providers.models import Absence

CHUNK = 500  # booking ids per IN (...) list


@dataclass
class MirrorChanges:
    """What one pass changed: each booking as it was and as it is now (None: not there)."""

    new: list[Absence] = field(default_factory=list)
    changed: list[tuple[Absence, Absence]] = field(default_factory=list)
    deleted: list[Absence] = field(default_factory=list)
    hidden: int = 0  # no longer listed by a near pass: hidden until a full pass tells deleted from moved

    def __len__(self) -> int:
        return len(self.new) + len(self.changed) + len(self.deleted)


def _overlapping(provider: str, start: date, end: date) -> object:
    return (
        (col(MirroredAbsence.provider) == provider)
        & (col(MirroredAbsence.start_date) <= end)
        & (col(MirroredAbsence.end_date) >= start)
    )


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


class MirrorRows(StoreBase):
    """The mirrored absences and the sync state."""

    async def mirrored(self, *, provider: str, start: date, end: date) -> list[Absence]:
        """The absences the mirror holds touching ``start``..``end``."""
        query = select(MirroredAbsence).where(
            _overlapping(provider, start, end), col(MirroredAbsence.gone_since).is_(None)
        )
        async with self.session() as session:
            return [row.absence for row in await session.exec(query)]

    async def reconcile(
        self, *, provider: str, start: date, end: date, listed: Sequence[Absence], seen: datetime, full: bool
    ) -> MirrorChanges:
        """Make the mirror of ``start``..``end`` what the HR system listed; what changed.

        A booking missing from a near pass may have moved beyond its window: it is hidden, and only a
        full pass (whose window holds where it could have gone) reports it deleted.
        """
        changes = MirrorChanges()
        fresh = {a.id: MirroredAbsence.of(provider, a, seen) for a in listed}
        async with self.session() as session:
            held = {
                r.booking_id: r
                for r in await session.exec(select(MirroredAbsence).where(_overlapping(provider, start, end)))
            }
            for ids in _chunks([i for i in fresh if i not in held]):
                query = select(MirroredAbsence).where(
                    col(MirroredAbsence.provider) == provider, col(MirroredAbsence.booking_id).in_(ids)
                )
                held.update({r.booking_id: r for r in await session.exec(query)})
            for booking_id, row in fresh.items():
                old = held.get(booking_id)
                if old is None:
                    changes.new.append(row.absence)
                elif old.gone_since is not None or not old.same_as(row):
                    changes.changed.append((old.absence, row.absence))
                await session.merge(row)
            for booking_id, old in held.items():
                if booking_id in fresh or not (old.start_date <= end and old.end_date >= start):
                    continue
                if full:
                    changes.deleted.append(old.absence)
                    await session.delete(old)
                elif old.gone_since is None:
                    old.gone_since = seen
                    session.add(old)
                    changes.hidden += 1
            if full:  # what ended before the window is history the HR system keeps, not the mirror
                await session.exec(  # type: ignore[call-overload]
                    delete(MirroredAbsence).where(
                        col(MirroredAbsence.provider) == provider, col(MirroredAbsence.end_date) < start
                    )
                )
            await session.commit()
        return changes

    async def mirror_one(self, *, provider: str, absence: Absence) -> None:
        """Put one booking into the mirror at once (a webhook told of it)."""
        async with self.session() as session:
            await session.merge(MirroredAbsence.of(provider, absence, now()))
            await session.commit()

    async def sync_state(self, *, provider: str) -> SyncState | None:
        """Where this provider's sync stands; None before its first pass."""
        async with self.session() as session:
            return await session.get(SyncState, provider)

    async def claim_sync(self, *, provider: str, lease: timedelta) -> bool:
        """Take the provider's sync lease: True for one instance at a time until it runs out or is ended."""
        moment = now()
        try:
            async with self.session() as session:
                if await session.get(SyncState, provider) is None:
                    session.add(SyncState(provider=provider))
                    await session.commit()
        except IntegrityError:
            pass  # another instance made the row first
        query = (
            update(SyncState)
            .where(
                col(SyncState.provider) == provider,
                or_(col(SyncState.lease_until).is_(None), col(SyncState.lease_until) < moment),
            )
            .values(lease_until=moment + lease)
        )
        async with self.session() as session:
            taken = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(taken)

    async def end_sync(self, *, provider: str, **done: object) -> None:
        """Hand back the sync lease, recording a good pass (``near_at``, ``full_at``, window) if given."""
        query = update(SyncState).where(col(SyncState.provider) == provider).values(lease_until=None, **done)
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()
