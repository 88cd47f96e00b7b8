"""Thin Bolt listeners: ack, call one service, answer. Each module has ``register(app, deps)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.config import Settings
from bot.services.requests import LeaveService


@dataclass(frozen=True)
class Deps:
    """What listeners need: the service and the settings."""

    service: LeaveService
    settings: Settings

    def today(self) -> date:
        """Today in the company's time zone."""
        return datetime.now(self.settings.zone).date()
