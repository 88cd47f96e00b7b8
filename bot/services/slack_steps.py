"""The Slack steps after a provider call, each an outbox job of its own: one that fails (Slack down,
rate-limited) is retried without holding up the others, and nobody is told "something went wrong"
about work that went through."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain import JobKind, JobResult
from bot.errors import passing
from bot.services.cards import Cards
from bot.services.deps import Deps
from bot.services.home import Homes
from bot.store.tables import OutboxJob

SLACK_STEPS = frozenset(
    {
        JobKind.ASK_APPROVERS,
        JobKind.REFRESH_CARDS,
        JobKind.TELL_REQUESTER,
        JobKind.TELL_APPROVERS_CANCELLED,
        JobKind.REFRESH_HOMES,
        JobKind.TELL_ACTOR,
    }
)


def step(kind: JobKind, after: OutboxJob, **payload: Any) -> OutboxJob:
    """The step ``kind`` after the job ``after``: stored once, however often ``after`` is repeated."""
    return OutboxJob(
        request_id=after.request_id,
        kind=kind,
        key=f"{after.id}:{kind}",
        actor=after.actor,
        payload=json.dumps(payload) if payload else "",
    )


class SlackSteps:
    """The outbox's handler for the Slack steps."""

    def __init__(self, deps: Deps, *, cards: Cards, homes: Homes) -> None:
        self.deps = deps
        self.cards = cards
        self.homes = homes
        self.steps: dict[JobKind, Callable[[OutboxJob, dict[str, Any]], Awaitable[None]]] = {
            JobKind.ASK_APPROVERS: self._ask_approvers,
            JobKind.REFRESH_CARDS: self._refresh_cards,
            JobKind.TELL_REQUESTER: self._tell_requester,
            JobKind.TELL_APPROVERS_CANCELLED: self._tell_approvers_cancelled,
            JobKind.REFRESH_HOMES: self._refresh_homes,
            JobKind.TELL_ACTOR: self._tell_actor,
        }

    def retryable(self, error: Exception) -> bool:
        """Slack (or the HR system, asked who approves) down, slow or rate-limiting."""
        return passing(error)

    async def perform(self, job: OutboxJob, *, first_try: bool) -> None:
        """Do the step; asking the approvers late (a retry) tells the requester, who heard it had not been yet."""
        await self.steps[JobKind(job.kind)](job, json.loads(job.payload or "{}"))
        if job.kind == JobKind.ASK_APPROVERS and not first_try:
            await self.cards.tell_asked(job.request_id)

    async def done(self, job: OutboxJob, *, inline: bool) -> list[OutboxJob]:
        """Nothing follows a step."""
        return []

    async def revert(self, job: OutboxJob, result: JobResult) -> None:
        """A step changes nothing that could be put back: the outbox's log line is all."""

    async def failed(self, job: OutboxJob, error: Exception) -> list[OutboxJob]:
        """Nobody waits for a step to be told about it."""
        return []

    async def _ask_approvers(self, job: OutboxJob, payload: dict[str, Any]) -> None:
        await self.cards.ask_approvers(job.request_id, note=payload.get("note") or None)

    async def _refresh_cards(self, job: OutboxJob, payload: dict[str, Any]) -> None:
        await self.cards.refresh(await self.deps.request(job.request_id), line=payload.get("line", ""))

    async def _tell_requester(self, job: OutboxJob, payload: dict[str, Any]) -> None:
        await self.cards.tell_requester(await self.deps.request(job.request_id))

    async def _tell_approvers_cancelled(self, job: OutboxJob, payload: dict[str, Any]) -> None:
        await self.cards.tell_approvers_cancelled(await self.deps.request(job.request_id))

    async def _refresh_homes(self, job: OutboxJob, payload: dict[str, Any]) -> None:
        await self.homes.refresh(await self.deps.request(job.request_id))

    async def _tell_actor(self, job: OutboxJob, payload: dict[str, Any]) -> None:
        if self.deps.slack is not None and job.actor:
            await self.deps.slack.chat_postMessage(channel=job.actor, text=payload["text"])
