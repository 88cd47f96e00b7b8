"""Thin Bolt listeners: ack, then call one service and answer in the background. Each module has ``register(app, deps)``.

The app runs with ``process_before_response=True``, so Slack gets its answer as soon as a listener
returns; the work after the ack goes to :meth:`ListenerDeps.after_ack` and never delays an answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.errors import UserError, friendly
from bot.services.deps import in_background
from bot.services.outbox import kept_alive
from bot.services.wiring import Services
from providers.errors import ProviderAuthError, ProviderError

log = logging.getLogger(__name__)

DELIVERY = "leavebot_delivery"  # context key: a first delivery's key, recorded by its work (see bot.app)
GAVE_UP = (
    "leavebot stopped several times while doing what you asked here, so it has stopped trying (it may be "
    "what stopped it). Check `/leave mine`: if it is not there, please try again, and if this happens again "
    "tell whoever runs leavebot."
)
MAX_LAG = 0.002  # seconds a turn of the event loop may take before the next job waits for a quicker one
Work = Callable[[], Awaitable[Any]]
Job = Callable[[], Coroutine[Any, Any, Any]]
# Work that needs nothing but the delivery's body, so it can be resumed from the stored body after a crash.
BodyWork = Callable[["ListenerDeps", dict[str, Any], AsyncWebClient], Awaitable[Any]]
Listener = Callable[..., Awaitable[None]]


class Backlog:
    """The work left for after acks, started only while the event loop keeps up, so acks go first.

    Acks and the work after them share one event loop. Were a burst of clicks to start all its work
    at once, every ack arriving next would queue behind that work's callbacks. So the jobs wait here
    and one starts after each quick turn of the loop (under ``MAX_LAG``): work that mostly waits on
    I/O (a slow HR system) starts as fast as it comes; work that keeps the loop busy (the database,
    Slack calls) is spread out, and the acks in between are answered first.
    """

    def __init__(self, *, max_lag: float = MAX_LAG) -> None:
        self.max_lag = max_lag
        self.waiting: deque[Job] = deque()
        self.running: set[asyncio.Task[Any]] = set()
        self._admitting = False

    def start(self, job: Job) -> None:
        """Start ``job`` now, holding its task until it ends (the loop keeps only weak references)."""
        task = asyncio.create_task(_in_background(job))
        self.running.add(task)
        task.add_done_callback(self._ended)

    def add(self, job: Job) -> None:
        """Start ``job`` when the event loop has room for it."""
        self.waiting.append(job)
        if not self._admitting:
            self._admitting = True
            self.start(self._admit)

    async def _admit(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                began = loop.time()
                await asyncio.sleep(0)  # one turn: everything ready before us (acks too) runs first
                if loop.time() - began > self.max_lag:
                    await asyncio.sleep(self.max_lag)
                else:
                    self.start(self.waiting.popleft())
        finally:
            self._admitting = False

    async def drain(self) -> None:
        """Wait until no work is waiting or running (tests call this before asserting what did not happen)."""
        while self.waiting or self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
            await asyncio.sleep(0)  # let the admitting task start what still waits

    async def cancel(self) -> None:
        """Drop the work still waiting and cut short what runs (the process is stopping)."""
        self.waiting.clear()
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self.running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("work after an ack failed", exc_info=error)


async def _in_background(job: Job) -> Any:
    in_background()  # the ack was sent: nobody waits on this work, the next acks go first
    return await job()


@dataclass(frozen=True)
class ListenerDeps:
    """What listeners need: the services, the settings, and the backlog of work after acks."""

    services: Services
    settings: Settings
    backlog: Backlog = field(default_factory=Backlog, compare=False)
    resumable: dict[str, BodyWork] = field(default_factory=dict, compare=False)  # filled by ``durable``
    working: set[str] = field(default_factory=set, compare=False)  # accepted deliveries held here, not done

    def durable(self, name: str, work: BodyWork) -> Listener:
        """The listener of a click or submission that changes leave: the delivery is stored, leased to this
        instance, before the ack; ``work`` runs after it. Should this instance die in between, the lease
        runs out and any instance resumes the work from the stored body (:meth:`resume_abandoned`).
        """
        self.resumable[name] = work

        async def listener(
            ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
        ) -> None:
            key = context.get(DELIVERY)
            if key is None:  # nothing to key it by (Slack always sends a trigger id): work as any other
                await ack()
                self.after_ack(context, body, client, partial(work, self, body, client))
                return
            store, lease = self.services.deps.store, self.services.outbox.policy.lease
            accepted = await store.accept_delivery(key=key, work=name, body=body, lease=lease)
            await ack()
            if accepted:  # else a retry of a delivery accepted already, whose work is done or under way
                self.working.add(key)
                self.backlog.add(partial(self._accepted, key, work, body, client))

        return listener

    def after_ack(
        self,
        context: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        work: Work,
        *,
        urgent: bool = False,
    ) -> None:
        """Call ``work()`` after the ack, once per Slack delivery, telling the user behind ``body`` of any failure.

        ``urgent`` work opens a modal, whose trigger id expires 3 s after the click: it starts at
        once instead of waiting in the backlog.
        """
        job = partial(self._once, context.get(DELIVERY), work, body, client)
        if urgent:
            self.backlog.start(job)
        else:
            self.backlog.add(job)

    async def _once(
        self, delivery: str | None, work: Work, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        async with reporting_errors(body, client):
            # False: a retry of this delivery (maybe on another instance) was recorded first, and works.
            if delivery is None or await self.services.deps.store.first_delivery(key=delivery):
                await work()

    async def resume_abandoned(self, client: AsyncWebClient) -> int:
        """Resume the accepted deliveries whose instance died before their work was over; how many."""
        store = self.services.deps.store
        abandoned = await store.claim_abandoned_deliveries(lease=self.services.outbox.policy.lease)
        for delivery in abandoned:
            assert delivery.work is not None
            log.warning(
                "resuming %s of delivery %s, left by an instance that stopped", delivery.work, delivery.key
            )
            self.working.add(delivery.key)
            try:
                await self._accepted(
                    delivery.key, self.resumable[delivery.work], json.loads(delivery.body), client
                )
            except Exception:  # not even told to its user: it is tried again once its lease runs out
                log.exception("resuming delivery %s failed", delivery.key)
        for delivery in await store.give_up_deliveries():
            log.error(
                "gave up %s of delivery %s: begun %d times, it never ended (it may be what stops instances)",
                delivery.work,
                delivery.key,
                delivery.attempts,
            )
            await tell(json.loads(delivery.body), client, GAVE_UP)
        return len(abandoned)

    async def stop(self) -> None:
        """Let the work after acks finish for up to SHUTDOWN_GRACE, then cut it short and hand back the
        accepted deliveries it leaves, so any instance resumes them at once (the process is stopping)."""
        try:
            await asyncio.wait_for(self.backlog.drain(), self.settings.shutdown_grace)
        except TimeoutError:
            log.warning("stopping with work after acks unfinished; another instance or a restart resumes it")
        await self.backlog.cancel()
        await self.services.deps.store.release_deliveries(keys=self.working)

    async def _accepted(self, key: str, work: BodyWork, body: dict[str, Any], client: AsyncWebClient) -> None:
        store, policy = self.services.deps.store, self.services.outbox.policy
        renew = partial(store.renew_deliveries, keys=[key], lease=policy.lease)
        async with kept_alive(renew, every=policy.heartbeat), reporting_errors(body, client):
            await work(self, body, client)
        await store.finish_delivery(key=key)
        # Cut short or failed unreported, the delivery stays in ``working``: ``stop`` hands it back.
        self.working.discard(key)


async def report_error(error: BaseException, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Log what operators must see, and tell the user behind ``body`` in plain words."""
    if isinstance(error, ProviderAuthError):
        log.error(
            "%s refused leavebot's credentials: check the %s_* settings",
            error.provider,
            error.provider.upper(),
        )
    elif not isinstance(error, UserError | ProviderError):
        log.error("unexpected error handling a Slack request", exc_info=error)
    await tell(body, client, friendly(error))


async def tell(body: dict[str, Any], client: AsyncWebClient, text: str) -> None:
    """Say ``text`` privately to the user behind ``body``: where they clicked, else in a DM."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if response_url := body.get("response_url"):
        await AsyncWebhookClient(response_url).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    elif user:
        await client.chat_postMessage(channel=user, text=text)


@asynccontextmanager
async def reporting_errors(body: dict[str, Any], client: AsyncWebClient) -> AsyncIterator[None]:
    """Wrap the work done after an ack, so every failure reaches the user.

    Bolt's error handler only sees what fails before a listener returns; the work
    after the ack runs in its own task (:meth:`ListenerDeps.after_ack`), so it reports here.
    """
    try:
        yield
    except Exception as error:  # the one boundary between a listener's work and the user
        await report_error(error, body, client)
