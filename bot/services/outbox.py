"""The outbox: every provider call that changes a booking is stored first, tried at once, and retried
with backoff while the provider is down or rate-limits, by whichever instance claims it.

What a job does is its handler's business (``bot.services.request_jobs``); this module only keeps the
promise that a stored job is tried until it is done, refused, or given up, and that its handler hears
which.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.domain import JobResult
from bot.store import Store
from bot.store.tables import OutboxJob, now
from providers.errors import ProviderError, ProviderRateLimited, ProviderUnavailable

log = logging.getLogger(__name__)


def transient(error: ProviderError) -> bool:
    """True for a failure that may pass (down, slow, rate-limited); False for a refusal or bad credentials."""
    return isinstance(error, ProviderUnavailable | ProviderRateLimited)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, from ``first`` to at most ``longest`` between tries.

    The defaults try 12 times over about an hour and a half, then give up and tell the people waiting.
    """

    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(minutes=15)
    tries: int = 12
    lease: timedelta = timedelta(minutes=5)  # longer than any one call (10 s timeout, short 429 waits)

    def delay(self, attempts: int, error: ProviderError) -> timedelta:
        """The wait before try ``attempts + 1``: doubling, half of it random, never under Retry-After."""
        ceiling = min(self.longest, self.first * 2 ** (attempts - 1))
        wait = ceiling * random.uniform(0.5, 1.0)  # jitter: instances retrying together spread out
        retry_after = getattr(error, "retry_after", None)
        return max(wait, timedelta(seconds=retry_after)) if retry_after else wait


class JobHandler(Protocol):
    """What the outbox calls for each job: the work, and the news of how it ended."""

    async def perform(self, job: OutboxJob) -> None:
        """The provider call of one job and its result in the store; safe to repeat."""

    async def done(self, job: OutboxJob, *, inline: bool) -> None:
        """After the job went through (``inline``: on the first try, its caller still waiting)."""

    async def revert(self, job: OutboxJob, result: JobResult) -> None:
        """Undo what the job's caller had claimed, once it was refused or given up."""

    async def failed(self, job: OutboxJob, error: ProviderError) -> None:
        """Tell the people waiting for a job retried in the background that it failed for good."""


class Outbox:
    """Stored provider calls, tried now and retried until done, refused or given up."""

    def __init__(self, store: Store, handler: JobHandler, policy: RetryPolicy | None = None) -> None:
        self.store = store
        self.handler = handler
        self.policy = policy or RetryPolicy()

    async def attempt(self, job: OutboxJob) -> bool:
        """Store ``job`` and try it at once: True when done, False when it waits in the outbox for a retry.

        A refusal (not a passing failure) is reverted and raised to the caller.
        """
        job = await self.store.enqueue(job=job, lease=self.policy.lease)
        return await self._try(job, inline=True)

    async def retry_due(self) -> int:
        """Try the jobs that are due (the background loop calls this); how many were tried."""
        jobs = await self.store.claim_due(lease=self.policy.lease)
        for job in jobs:
            try:
                await self._try(job, inline=False)
            except Exception:  # one job's failure must not hold up the others; it was reported already
                log.exception("outbox job %s (%s of request %s) failed", job.id, job.kind, job.request_id)
        return len(jobs)

    async def _try(self, job: OutboxJob, *, inline: bool) -> bool:
        assert job.id is not None
        attempts = job.attempts + 1
        try:
            await self.handler.perform(job)
        except ProviderError as exc:
            if transient(exc) and attempts < self.policy.tries:
                due = now() + self.policy.delay(attempts, exc)
                await self.store.retry_job(job_id=job.id, attempts=attempts, due_at=due, error=exc.message)
                log.warning("%s of request %s queued: %s", job.kind, job.request_id, exc.message)
                return False
            result = JobResult.GAVE_UP if transient(exc) else JobResult.REFUSED
            await self.handler.revert(job, result)
            await self.store.finish_job(job_id=job.id, result=result, attempts=attempts, error=exc.message)
            if inline:
                raise
            await self.handler.failed(job, exc)
            return False
        await self.store.finish_job(job_id=job.id, result=JobResult.DONE, attempts=attempts)
        await self.handler.done(job, inline=inline)
        return True
