"""Alembic environment: runs on the connection handed over by bot.store.migrate."""

from alembic import context
from sqlmodel import SQLModel

import bot.store.away_tables  # noqa: F401  (registers the bot's tables: bot.store.tables and these)
import providers.local  # noqa: F401  (the local provider keeps its leave in the same database)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `leavebot db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
