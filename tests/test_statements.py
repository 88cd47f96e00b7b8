"""How many SQL statements a Submit costs, before its ack and in the work after it: a ceiling, so that a
change adding reads or writes to the busiest path fails here instead of only in a benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from conftest import ALICE, Bot
from helpers.cards import DAY, preview_value
from sqlalchemy import event
from test_change import modal_values

from bot.views import ids

# A warm Submit on the local provider (its own table is in leavebot's database, so its reads and writes
# count too): measured 1 before the ack and 36 after it (docs/performance.md lists them); was 1 and 46.
ACK_CEILING = 1
AFTER_CEILING = 37


@contextmanager
def statements(bot: Bot) -> Iterator[list[str]]:
    """Every SQL statement the bot's engine sends while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = bot.service.deps.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def warm(bot: Bot) -> None:
    """One Submit first, as in a running office: Alice and her approvers are known, the caches filled."""
    preview = await bot.command(f"{(DAY - timedelta(days=7)).isoformat()} am")
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="warm")
    await bot.drain()


def assert_within(acked: list[str], after: list[str]) -> None:
    listing = "\n".join(["before the ack:", *acked, "after it:", *after])
    assert len(acked) <= ACK_CEILING, listing
    assert len(after) <= AFTER_CEILING, listing
    # The one write before the ack is the delivery, stored so that the acked Submit survives a kill.
    assert acked and acked[0].startswith("INSERT INTO slack_delivery"), listing


async def test_a_submit_click_stays_within_its_statement_ceiling(bot: Bot) -> None:
    """A Submit click costs at most ACK_CEILING statements before its ack and AFTER_CEILING after."""
    await warm(bot)
    preview = await bot.command(f"{DAY.isoformat()} pm for the dentist")
    with statements(bot) as acked:
        answer = await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="submit")
    with statements(bot) as after:
        await bot.drain()
    assert answer.status_code == 200
    assert bot.provider.calls["submit"] == 2  # the Submit's work was done, not skipped
    assert_within(acked, after)


async def test_a_modal_submission_stays_within_its_statement_ceiling(bot: Bot) -> None:
    """A request modal's submission costs no more statements than a Submit click."""
    await warm(bot)
    values = modal_values(DAY, DAY + timedelta(days=1))
    with statements(bot) as acked:
        answer = await bot.submit_view(ids.REQUEST_MODAL, values, user=ALICE, view_id="V0COUNTED")
    with statements(bot) as after:
        await bot.drain()
    assert answer.status_code == 200
    assert bot.provider.calls["submit"] == 2
    assert_within(acked, after)
