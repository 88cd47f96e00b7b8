"""Webhooks from the HR system: checked and answered at once, then applied once each, in the background.

``POST /webhooks/<provider>``: a delivery the provider cannot prove is its own (for
Timetastic, the ``Timetastic-Secret`` header compared in constant time) gets 401. Any
other gets 200 before any work, as Timetastic asks (its timeouts are short and it
retries what fails); the event is then parsed, de-duplicated on its id in the store and
applied through ``ProviderEvents.apply_event``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.server import read_capped
from bot.services.wiring import Services
from bot.store import in_background
from bot.store.tables import now
from providers.errors import ProviderRejected

log = logging.getLogger(__name__)

EVENT_MEMORY = timedelta(days=2)  # Timetastic redelivers with the same event id for up to 24 hours
RETRY_DELAYS = (0.5, 2.0)  # seconds before applying a failed event again: it was answered 200 already


class WebhookReceiver:
    """The Starlette endpoint for ``POST /webhooks/{provider}``: answers at once, applies the event after."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # A burst (everyone booking Christmas) is applied one event at a time in this process: events
        # about one person would otherwise race to record the same Slack user.
        self.one_at_a_time = asyncio.Lock()
        self.applying = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def receive(self, request: Request) -> Response:
        provider = self.services.deps.provider
        if request.path_params.get("provider") != provider.name:
            return PlainTextResponse("no such webhook", status_code=404)
        if not provider.verify_webhook(request.headers):
            log.warning("refused a %s webhook without the right secret", provider.name)
            return PlainTextResponse("unauthorized", status_code=401)
        body = await read_capped(request)
        if body is None:
            return PlainTextResponse("request too large", status_code=413)
        try:
            json.loads(body)  # every provider's webhooks are JSON: refuse garbage now, not after the 200
        except ValueError:
            log.warning("refused a %s webhook delivery that is not JSON", provider.name)
            return PlainTextResponse("malformed delivery", status_code=400)
        # Counted from before the answer, so drain() cannot miss a delivery the sender was just told is taken.
        self.applying += 1
        self.idle.clear()
        return PlainTextResponse("ok", background=BackgroundTask(self._apply, body))

    async def drain(self) -> None:
        """Wait until every delivery answered so far is applied (or given up)."""
        await self.idle.wait()

    async def _apply(self, body: bytes) -> None:
        in_background()  # after the answer: the next acks go first
        try:
            await apply_delivery(self.services, body, self.one_at_a_time)
        finally:
            self.applying -= 1
            if not self.applying:
                self.idle.set()


async def apply_delivery(services: Services, body: bytes, lock: asyncio.Lock) -> None:
    """Parse one verified delivery and apply its event, retrying twice; what still fails is logged."""
    for delay in (*RETRY_DELAYS, None):
        try:
            async with lock:
                event = await services.deps.provider.parse_webhook(body)
                if event is not None:
                    await services.events.apply_event(event)
            break
        except ProviderRejected as exc:  # not an event this provider sends: trying again won't help
            log.warning("ignored a %s webhook delivery: %s", services.deps.provider.name, exc.message)
            return
        except Exception:  # the one boundary for work done after the answer: nobody else would see it
            if delay is None:
                log.exception("could not apply a %s webhook delivery", services.deps.provider.name)
                return
            log.warning(
                "applying a %s webhook failed; trying again in %.1f s", services.deps.provider.name, delay
            )
            await asyncio.sleep(delay)
    await services.deps.store.forget_provider_events(before=now() - EVENT_MEMORY)
