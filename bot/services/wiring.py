"""Every service, built once from the provider, the store and Slack: what listeners, the CLI and the job loop use."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta, tzinfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import PROVIDER_CALLS, JobKind
from bot.services.away import AwayStatus, AwaySteps
from bot.services.calendar import DigestPlan
from bot.services.cards import Cards
from bot.services.connect import AwayConfig, Connections
from bot.services.delegates import Delegates
from bot.services.deps import Deps
from bot.services.events import ProviderEvents
from bot.services.feeds import FeedPolicy, Feeds
from bot.services.home import Homes
from bot.services.outbox import Outbox, RetryPolicy
from bot.services.people import People
from bot.services.previews import Previews
from bot.services.reminders import Reminders
from bot.services.request_jobs import RequestJobs
from bot.services.requests import Requests
from bot.services.slack_steps import SLACK_STEPS, SlackSteps
from bot.services.sync import Sync
from bot.store import Store
from providers.base import LeaveProvider
from providers.errors import ProviderError

log = logging.getLogger(__name__)


class Services:
    """The services of one running leavebot, sharing one ``Deps``."""

    def __init__(
        self,
        *,
        provider: LeaveProvider,
        store: Store,
        slack: AsyncWebClient | None,
        zone: tzinfo = UTC,
        retry: RetryPolicy | None = None,
        plan: DigestPlan | None = None,
        sync_interval: timedelta = timedelta(minutes=5),
        escalate_to: str | None = None,
        away: AwayConfig | None = None,
        feeds: FeedPolicy | None = None,
    ) -> None:
        people = People(store=store, provider=provider, slack=slack)
        self.deps = deps = Deps(
            provider=provider,
            store=store,
            slack=slack,
            people=people,
            plan=plan or DigestPlan(routes={}),
            zone=zone,
            sync_interval=sync_interval,
        )
        # Leave in people's Slack status (None: SLACK_CLIENT_ID, _SECRET, LEAVEBOT_PUBLIC_URL or _SECRET_KEY unset).
        self.connections = Connections(deps, away) if away else None
        self.feeds = Feeds(deps, feeds or FeedPolicy())
        connected = self.connections.connected if self.connections else None
        self.homes = Homes(deps, self.feeds, connected=connected)
        self.delegates = Delegates(deps)
        self.cards = Cards(deps, delegates=self.delegates, homes=self.homes, escalate_to=escalate_to)
        self.outbox = Outbox(store, retry)
        self.away = (
            AwayStatus(deps, self.connections, away, lease=self.outbox.policy.lease)
            if self.connections and away
            else None
        )
        self.outbox.handle(PROVIDER_CALLS, RequestJobs(deps, away=self.away is not None))
        self.outbox.handle([JobKind.AWAY_STATUS], AwaySteps(deps, self.away))
        self.outbox.handle(SLACK_STEPS, SlackSteps(deps, cards=self.cards, homes=self.homes))
        self.requests = Requests(deps, cards=self.cards, outbox=self.outbox)
        self.previews = Previews(deps, self.requests)
        self.events = ProviderEvents(
            deps, cards=self.cards, homes=self.homes, moved=self.away.refresh if self.away else None
        )
        self.sync = Sync(deps, events=self.events, interval=sync_interval)
        self.reminders = Reminders(deps, cards=self.cards, delegates=self.delegates, homes=self.homes)

    async def warm_up(self) -> None:
        """Fill the caches read before an ack: leave types (so a typed request can name one), time zones and locales.

        The leave types come first: until they are known a typed request's preview waits for them after its ack.
        """
        try:
            await self.requests.leave_types()
        except ProviderError as exc:
            log.warning(
                "could not read leave types from %s at start: %s", self.deps.provider.display_name, exc
            )
        await self.deps.people.remember_zones()
