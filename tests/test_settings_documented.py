"""Every variable leavebot reads is in the README or docs/ (as `NAME`) and in .env.example (as NAME=)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import known_variables

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
EXAMPLE = (ROOT / ".env.example").read_text()
TESTS_ONLY = {
    "SLACK_API_URL"
}  # points the bot at a fake Slack: documented, not something to copy into a .env


@pytest.mark.parametrize("name", known_variables())
def test_documented(name: str) -> None:
    assert f"`{name}`" in DOCS, f"{name} is read by leavebot but not in the README's or docs/' tables"


@pytest.mark.parametrize("name", sorted(set(known_variables()) - TESTS_ONLY))
def test_in_env_example(name: str) -> None:
    assert re.search(rf"^(# )?{name}=", EXAMPLE, re.MULTILINE), f"{name} is missing from .env.example"
