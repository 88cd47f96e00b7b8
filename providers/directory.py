"""The people of an HR system as last listed: by id and by e-mail, re-read when stale or on a miss."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
U = TypeVar("U")


class Directory(Generic[K, U]):
    """A TTL cache of a provider's people (its private records), shared by every task of one provider.

    ``read`` lists everyone; it runs when the list is older than ``fresh_for`` seconds, and on a miss
    (an id or e-mail not in the list) when the list is older than ``refresh_after_miss`` seconds,
    so a newcomer is found soon without an unknown address costing a listing per call.
    """

    def __init__(
        self,
        read: Callable[[], Awaitable[Iterable[U]]],
        *,
        key: Callable[[U], K],
        email: Callable[[U], str | None],
        fresh_for: float,
        refresh_after_miss: Callable[[], float],
    ) -> None:
        self._read, self._key, self._email = read, key, email
        self._fresh_for, self._refresh_after_miss = fresh_for, refresh_after_miss
        self._lock = asyncio.Lock()
        self._by_key: dict[K, U] = {}
        self._by_email: dict[str, U] = {}
        self._read_at = -math.inf

    async def everyone(self, *, refresh: bool = False) -> dict[K, U]:
        """Everyone by key; with ``refresh`` (after a miss) re-read unless read moments ago."""
        async with self._lock:  # concurrent misses share one read
            age = time.monotonic() - self._read_at
            if age > self._fresh_for or (refresh and age > self._refresh_after_miss()):
                people = list(await self._read())
                self._by_key = {self._key(u): u for u in people}
                self._by_email = {e.strip().lower(): u for u in people if (e := self._email(u))}
                self._read_at = time.monotonic()
            return self._by_key

    def known(self) -> dict[K, U]:
        """Everyone as last read, without reading."""
        return self._by_key

    async def get(self, key: K) -> U | None:
        """The one with this key, re-reading once on a miss."""
        return (await self.everyone()).get(key) or (await self.everyone(refresh=True)).get(key)

    async def find(self, email: str) -> U | None:
        """The one with this e-mail address, whatever its case, re-reading once on a miss."""
        address = email.strip().lower()
        await self.everyone()
        if address not in self._by_email:
            await self.everyone(refresh=True)
        return self._by_email.get(address)
