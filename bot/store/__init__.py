"""The bot's database: tables, the Store, and migrations."""

from bot.store.base import in_background
from bot.store.migrate import upgrade
from bot.store.repo import Store, create_engine

__all__ = ["Store", "create_engine", "in_background", "upgrade"]
