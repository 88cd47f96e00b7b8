"""The store: every read and write of the bot's tables, each in its own short transaction.

Everything that must happen once across instances is decided here by the
database (unique keys and conditional updates), never by a process-local lock.
One part per family of tables; ``Store`` is all of them over one engine.
"""

from __future__ import annotations

from bot.store.away import AwayRows
from bot.store.base import create_engine
from bot.store.feeds import FeedRows
from bot.store.mirror import MirrorRows
from bot.store.people import PeopleRows
from bot.store.requests import RequestRows
from bot.store.tokens import TokenRows
from bot.store.work import WorkRows

__all__ = ["Store", "create_engine"]


class Store(RequestRows, PeopleRows, WorkRows, MirrorRows, TokenRows, AwayRows, FeedRows):
    """The bot's database."""
