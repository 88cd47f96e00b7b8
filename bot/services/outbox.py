"""The outbox: every provider call that changes a booking, and every Slack step after it, is stored
first, tried at once, and retried with backoff while the provider or Slack is down or rate-limits, by
whichever instance claims it.

What a job does is its handler's business (``bot.services.request_jobs`` for provider calls,
``bot.services.slack_steps`` for the Slack steps after them); this module only keeps the promise that
a stored job is tried until it is done, refused, or given up, and that its handler hears which.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol

from slack_sdk.errors import SlackApiError

from bot import logs
from bot.domain import PROVIDER_CALLS, JobKind, JobResult
from bot.errors import UserError, passing, slack_token_refused
from bot.store import Store
from bot.store.tables import OutboxJob, now
from providers.errors import ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, from ``first`` to at most ``longest`` between tries.

    The defaults try 12 times over about an hour and a half, then give up and tell the people waiting.
    """

    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(minutes=15)
    tries: int = 12
    lease: timedelta = timedelta(seconds=30)  # a dead owner's job is taken over this long after it died
    heartbeat: timedelta = timedelta(seconds=10)  # how often a live owner renews the lease

    @classmethod
    def leased(cls, lease: timedelta) -> RetryPolicy:
        """The default retries with this lease (WORK_LEASE), renewed three times per lease."""
        return cls(lease=lease, heartbeat=lease / 3)

    def delay(self, attempts: int, error: Exception) -> timedelta:
        """The wait before try ``attempts + 1``: doubling, half of it random, never under Retry-After."""
        ceiling = min(self.longest, self.first * 2 ** (attempts - 1))
        wait = ceiling * random.uniform(0.5, 1.0)  # jitter: instances retrying together spread out
        retry_after = getattr(error, "retry_after", None)
        return max(wait, timedelta(seconds=retry_after)) if retry_after else wait


class JobHandler(Protocol):
    """What the outbox calls for each job of the kinds it handles: the work, and what follows it."""

    def retryable(self, error: Exception) -> bool:
        """True for a failure that may pass (down, slow, rate-limited): the job is tried again later."""

    async def perform(self, job: OutboxJob, *, first_try: bool) -> None:
        """The job's work and its result in the store; safe to repeat (after a crash, ``first_try`` is False)."""

    async def done(self, job: OutboxJob, *, inline: bool) -> list[OutboxJob]:
        """The steps that follow a job that went through (``inline``: on the first try, its caller waiting)."""

    async def revert(self, job: OutboxJob, result: JobResult) -> None:
        """Undo what the job's caller had claimed, once it was refused or given up."""

    async def failed(self, job: OutboxJob, error: Exception) -> list[OutboxJob]:
        """The steps that tell the people waiting for a job retried in the background that it failed for good."""


class Outbox:
    """Stored work, tried now and retried until done, refused or given up, by whichever instance holds it.

    A job's lease is renewed while it is worked on (``RetryPolicy.heartbeat``), so a job whose instance
    died is taken over within about one lease; the steps after a job are stored before the job is
    closed, in the transaction that closes it: a crash before it repeats the job (which finds its work done)
    and never loses a step.
    """

    def __init__(self, store: Store, policy: RetryPolicy | None = None) -> None:
        self.store = store
        self.policy = policy or RetryPolicy()
        self.handlers: dict[JobKind, JobHandler] = {}
        self.working: set[int] = set()  # ids of the jobs this instance holds right now

    def handle(self, kinds: Iterable[JobKind], handler: JobHandler) -> None:
        """Send the jobs of these kinds to ``handler``."""
        self.handlers |= dict.fromkeys(kinds, handler)

    async def run(self, job: OutboxJob) -> bool:
        """Try a job just stored with its lease (``Store.create_request`` / ``move_request``): True when done,
        False when it waits in the outbox for a retry. A refused provider call is reverted and raised.
        """
        return await self._try(job, inline=True)

    async def retry_due(self) -> int:
        """Try the jobs that are due, or whose owner died (the background loop calls this); how many were tried."""
        jobs = await self.store.claim_due(lease=self.policy.lease)
        await self._quietly(jobs, inline=False)
        return len(jobs)

    async def resume(self, request_id: int | None) -> None:
        """Take over a request's jobs whose owner died (a press again, rather than waiting for the loop)."""
        jobs = await self.store.claim_due(lease=self.policy.lease, request_id=request_id, stalled=True)
        await self._quietly(jobs, inline=False)

    async def unpause(self) -> int:
        """Make the jobs paused for a refused Slack token due again (``serve`` and ``socket`` start only
        with a token Slack accepts); how many."""
        if resumed := await self.store.unpause_jobs():
            log.info("%s outbox jobs paused for a refused Slack token are due again", resumed)
        return resumed

    async def release(self) -> None:
        """Give back the leases of the jobs cut short here (the process is stopping): any instance takes
        them at once instead of after their lease ran out."""
        await self.store.release_leases(job_ids=self.working)

    async def _quietly(self, jobs: Iterable[OutboxJob], *, inline: bool) -> None:
        """Try each job; one job's failure never holds up the others (it was reported already)."""
        for job in jobs:
            try:
                await self._try(job, inline=inline)
            except Exception:
                log.exception("outbox job %s (%s of request %s) failed", job.id, job.kind, job.request_id)

    async def _try(self, job: OutboxJob, *, inline: bool) -> bool:
        with logs.about(request=job.request_id):  # the loop's lines name the request they work for
            return await self._try_job(job, inline=inline)

    async def _try_job(self, job: OutboxJob, *, inline: bool) -> bool:
        assert job.id is not None
        handler = self.handlers[JobKind(job.kind)]
        attempts = job.attempts + 1
        try:
            async with self._holding(job.id):
                await handler.perform(job, first_try=inline and job.attempts == 0)
        except Exception as exc:
            if refused := slack_token_refused(exc):
                # Nothing sent with this token will work, nor is the job at fault: it waits, untried and
                # uncounted, until leavebot starts again (with a token Slack accepts: `serve` checks).
                await self.store.pause_job(job_id=job.id, error=f"Slack refused the token: {refused}")
                log.warning(  # not an error line: a one-off command says it in its own one line
                    "Slack refused leavebot's token (%s): %s of request %s is paused in the outbox until "
                    "leavebot restarts with a working SLACK_BOT_TOKEN (`leavebot check` tells)",
                    refused,
                    job.kind,
                    job.request_id,
                )
                return False
            # A UserError is a refusal in plain words (a requester the HR system does not know, found out
            # by a job that had to look them up): never retried, told as it is.
            # Slack or the HR system unreachable is expected too: it is retried, not a bug to trace.
            expected = isinstance(exc, ProviderError | SlackApiError | UserError) or passing(exc)
            if not expected:  # a bug, or a store that failed: logged, and tried again like a passing failure
                log.exception("outbox job %s (%s of request %s) broke", job.id, job.kind, job.request_id)
            retryable = handler.retryable(exc) or not expected
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {str(exc)[:300]}"
            if retryable and attempts < self.policy.tries:
                due = now() + self.policy.delay(attempts, exc)
                await self.store.retry_job(job_id=job.id, attempts=attempts, due_at=due, error=message)
                log.warning("%s of request %s queued: %s", job.kind, job.request_id, message)
                if inline and not expected:
                    raise
                return False
            result = JobResult.GAVE_UP if retryable else JobResult.REFUSED
            await handler.revert(job, result)
            await self.store.finish_job(job_id=job.id, result=result, attempts=attempts, error=message)
            if inline and JobKind(job.kind) in PROVIDER_CALLS:
                raise  # the caller tells the person who is waiting
            await self._follow(await handler.failed(job, exc))
            return False
        steps = await handler.done(job, inline=inline)
        stored = await self.store.finish_job(
            job_id=job.id, result=JobResult.DONE, attempts=attempts, steps=steps, lease=self.policy.lease
        )
        await self._quietly(stored, inline=True)
        return True

    async def _follow(self, steps: list[OutboxJob]) -> None:
        """Store the steps after a job and try each at once."""
        await self._quietly(await self.store.enqueue_steps(jobs=steps, lease=self.policy.lease), inline=True)

    @asynccontextmanager
    async def _holding(self, job_id: int) -> AsyncIterator[None]:
        """Hold a job's lease while its work runs: renewed every ``heartbeat``, so others know we are alive."""
        self.working.add(job_id)
        renew = partial(self.store.renew_leases, job_ids=[job_id], lease=self.policy.lease)
        try:
            async with kept_alive(renew, every=self.policy.heartbeat):
                yield
        except Exception:
            self.working.discard(job_id)
            raise
        # Cancelled (the process is stopping), the job stays in ``working``: ``release`` hands it back.
        self.working.discard(job_id)


@asynccontextmanager
async def kept_alive(renew: Callable[[], Awaitable[None]], *, every: timedelta) -> AsyncIterator[None]:
    """Call ``renew`` every ``every`` while the body runs (a lease's heartbeat).

    A beat that has begun finishes before the body's end is passed on, even when the body is cancelled:
    a query cut half-way, or one left running unawaited until the event loop closes, leaves its database
    connection (and aiosqlite's thread, which keeps the process from exiting) behind.
    """
    ended = asyncio.Event()

    async def beat() -> None:
        while not ended.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), every.total_seconds())
                return
            try:
                await renew()
            except Exception:  # a missed beat is no failure of the work: the next one may go through
                log.warning("could not renew a lease", exc_info=True)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        ended.set()
        await asyncio.shield(beating)
