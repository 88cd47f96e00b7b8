"""The App Home of each person, published when they open it and again after every change that concerns them."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from slack_sdk.errors import SlackApiError

from bot.errors import UserError, passing
from bot.services.deps import Deps
from bot.services.feeds import Feeds
from bot.store.tables import LeaveRequest
from bot.views.home import TO_DECIDE_SHOWN, HomeSummary, build_home
from providers.errors import ProviderError
from providers.models import Balance

log = logging.getLogger(__name__)


class Homes:
    """Everyone's App Home, and the lists it shows."""

    def __init__(self, deps: Deps, feeds: Feeds | None = None) -> None:
        self.deps = deps
        self.feeds = feeds

    async def mine_of(self, slack_user_id: str, *, today: date) -> list[LeaveRequest]:
        """A user's own requests from ``today`` on."""
        return await self.deps.store.requests_of(slack_user_id=slack_user_id, since=today)

    async def summary(self, slack_user_id: str, *, today: date) -> HomeSummary:
        """Their upcoming requests, the requests waiting for their decision, and their balance.

        Only the requests to decide that the Home shows are read (and then counted if there are more): an
        approver for a whole company may have hundreds waiting, and every change republishes the Home.
        """
        store = self.deps.store
        to_decide = await store.pending_for_approver(slack_user_id=slack_user_id, limit=TO_DECIDE_SHOWN + 1)
        waiting = len(to_decide)
        if waiting > TO_DECIDE_SHOWN:
            waiting = await store.count_pending_for_approver(slack_user_id=slack_user_id)
        return HomeSummary(
            mine=await self.mine_of(slack_user_id, today=today),
            to_decide=to_decide,
            waiting=waiting,
            balance=await self._balance(slack_user_id),
            feeds=await self.feeds.links(slack_user_id) if self.feeds else None,
        )

    async def _balance(self, slack_user_id: str) -> Balance | None:
        provider = self.deps.provider
        if not provider.capabilities.balances:
            return None
        try:
            return await provider.balance(await self.deps.people.person_for(slack_user_id))
        except (UserError, ProviderError) as exc:  # the Home still shows, without the balance
            log.info("no balance for %s in the Home: %s", slack_user_id, exc)
            return None

    async def publish(
        self, slack_user_id: str, *, today: date | None = None, notice: str | None = None
    ) -> None:
        """Publish someone's Home tab as it stands now."""
        if self.deps.slack is None:
            return
        today = today or await self.deps.today_for(slack_user_id)
        summary = await self.summary(slack_user_id, today=today)
        await self.deps.slack.views_publish(
            user_id=slack_user_id, view=build_home(summary, today=today, notice=notice)
        )

    async def refresh(self, request: LeaveRequest) -> None:
        """Publish again the Home of the requester and of every approver of ``request``; failures are only logged."""
        if self.deps.slack is None:
            return
        cards = await self.deps.store.cards(request_id=request.id)
        users = dict.fromkeys(
            u for u in [request.requester_slack_id, *(c.approver_slack_id for c in cards)] if u
        )
        results = await asyncio.gather(*(self.publish(u) for u in users), return_exceptions=True)
        for user, result in zip(users, results, strict=True):
            # The change itself is done: a Home that could not be refreshed must not report it as failed.
            if isinstance(result, SlackApiError | ProviderError | UserError):
                log.warning("could not refresh the Home of %s: %s", user, result)
            elif isinstance(result, Exception):
                log.error("could not refresh the Home of %s", user, exc_info=result)
            elif isinstance(result, BaseException):
                raise result
        # Slack down: the outbox publishes them all again later (a Home is the same however often published).
        if failure := next((r for r in results if isinstance(r, SlackApiError) and passing(r)), None):
            raise failure
