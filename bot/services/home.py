"""The App Home of each person, published when they open it and again after every change that concerns them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from slack_sdk.errors import SlackApiError

from bot.errors import UserError, passing
from bot.services.deps import Deps
from bot.services.feeds import Feeds
from bot.store.tables import LeaveRequest
from bot.views.away import AwayOffer
from bot.views.home import TO_DECIDE_SHOWN, HomeSummary, build_home
from bot.views.reminders import balance_text
from providers.errors import ProviderError
from providers.models import Balance

log = logging.getLogger(__name__)


class Homes:
    """Everyone's App Home, and the lists it shows."""

    def __init__(
        self,
        deps: Deps,
        feeds: Feeds | None = None,
        *,
        connected: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.deps = deps
        self.feeds = feeds
        self.connected = connected  # None: statuses are not set up, the Home offers nothing of them

    async def mine_of(self, slack_user_id: str, *, today: date) -> list[LeaveRequest]:
        """A user's own requests from ``today`` on."""
        return await self.deps.store.requests_of(slack_user_id=slack_user_id, since=today)

    async def own_request(self, slack_user_id: str, request_id: int) -> LeaveRequest | None:
        """One of the user's own requests by its number, or None (not theirs, or none)."""
        request = await self.deps.store.request(request_id=request_id)
        return request if request is not None and request.requester_slack_id == slack_user_id else None

    async def on_days(self, slack_user_id: str, *, today: date, start: date, end: date) -> list[LeaveRequest]:
        """The user's requests from ``today`` on that touch ``start``..``end``."""
        mine = await self.mine_of(slack_user_id, today=today)
        return [r for r in mine if r.start_date <= end and start <= r.end_date]

    async def balance_text(self, slack_user_id: str) -> str:
        """`/leave balance`: the user's balance from the HR system, or a sentence saying it keeps none.

        Failures are raised (the user is told in plain words), unlike the Home, which shows without it.
        """
        provider = self.deps.provider
        kept = provider.capabilities.balances
        balance = await provider.balance(await self.deps.people.person_for(slack_user_id)) if kept else None
        hr = provider.display_name if provider.decides_elsewhere else None
        return balance_text(balance, hr=hr, kept=kept)

    async def summary(self, slack_user_id: str, *, today: date, link: str | None = None) -> HomeSummary:
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
            away=await self._away(slack_user_id, link),
            feeds=await self.feeds.links(slack_user_id) if self.feeds else None,
        )

    async def _away(self, slack_user_id: str, link: str | None) -> AwayOffer | None:
        if self.connected is None:
            return None
        return AwayOffer(connected=await self.connected(slack_user_id), link=link)

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
        self,
        slack_user_id: str,
        *,
        today: date | None = None,
        notice: str | None = None,
        link: str | None = None,
    ) -> None:
        """Publish someone's Home tab as it stands now (``link``: the status consent link just made for them)."""
        if self.deps.slack is None:
            return
        today = today or await self.deps.today_for(slack_user_id)
        summary = await self.summary(slack_user_id, today=today, link=link)
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
