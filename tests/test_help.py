"""`/leave help`, both manifests' usage hint and the README name the same subcommands (``SUBCOMMANDS``)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.parsing import ParseError, parse_request
from bot.views.help import HELP, SUBCOMMANDS

ROOT = Path(__file__).resolve().parent.parent


def commands_named(text: str) -> set[str]:
    """The subcommands a text names: the first word of each `/leave …` in backticks that is not a request
    (nor a placeholder such as `/leave <text>`)."""
    named = set()
    for typed in re.findall(r"`/leave ([^`<]+)`", text):
        try:
            parse_request(typed, today=date(2026, 12, 4), leave_types=[])
        except ParseError:
            named.add(typed.split()[0].lower())
    return named


def usage_hint(manifest: str) -> list[str]:
    """The choices of a manifest's usage hint, after its example request."""
    [command] = yaml.safe_load((ROOT / manifest).read_text())["features"]["slash_commands"]
    example, *choices = (part.strip() for part in command["usage_hint"].strip("[]").split("|"))
    assert parse_request(example, today=date(2026, 12, 4), leave_types=[])  # the first one is a request
    return choices


def test_help_names_every_subcommand_and_nothing_else() -> None:
    """Every `/leave <word>` in `/leave help` that is not a request is a subcommand, and each is there."""
    assert commands_named(HELP) == set(SUBCOMMANDS)


def test_readme_names_every_subcommand_and_nothing_else() -> None:
    """The README's `/leave <word>` that are not requests are the subcommands, each of them."""
    assert commands_named((ROOT / "README.md").read_text()) == set(SUBCOMMANDS)


@pytest.mark.parametrize("manifest", ["manifest.yml", "manifest.socket.yml"])
def test_the_usage_hint_lists_the_subcommands_in_helps_order(manifest: str) -> None:
    """Slack's usage hint shows an example request, then each subcommand, as SUBCOMMANDS orders them."""
    assert usage_hint(manifest) == list(SUBCOMMANDS)
