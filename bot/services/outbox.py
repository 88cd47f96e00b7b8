"""How long the bot keeps trying a provider call it owes, and which failures are worth another try."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from providers.errors import ProviderError, ProviderRateLimited, ProviderUnavailable

SUBMIT, APPROVE, DECLINE, CANCEL = "submit", "approve", "decline", "cancel"
DONE, REFUSED, GAVE_UP = "done", "refused", "gave up"
# What each kind of job is called when its requester or approver is told about it, and in the audit log.
WHAT = {SUBMIT: "request", APPROVE: "approval", DECLINE: "decline", CANCEL: "cancellation"}
AUDIT = {SUBMIT: "submitted", APPROVE: "approve", DECLINE: "decline", CANCEL: "cancel"}


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
