"""Approval kept by leavebot: the HR system sees a request only once it is approved."""

from __future__ import annotations

from typing import ClassVar

from providers.errors import ProviderError
from providers.models import Outcome


class BotKeptApproval:
    """Mixin for providers with ``ApprovalMode.BOT``: approve and decline are never called, so they refuse."""

    name: ClassVar[str]
    display_name: ClassVar[str]

    async def approve(self, booking_id: str) -> Outcome:
        """Never called: leavebot holds the approval."""
        raise self._kept()

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """Never called: a declined request never reaches the HR system."""
        raise self._kept()

    def _kept(self) -> ProviderError:
        return ProviderError(
            f"{self.display_name} keeps no pending requests: leavebot holds the approval", provider=self.name
        )
