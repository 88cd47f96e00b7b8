"""`python -m bot` is `leavebot`."""

from bot.cli import run

run()
