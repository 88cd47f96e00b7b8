"""The peer corpus (`../shared/parse-peer/`, Duckling's expressions) through `leavebot parse`: floors that only go up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Beside the project (the main checkout) or beside the folder of worktrees that holds it.
CHECKERS = [base / "shared" / "parse-peer" / "check.py" for base in (ROOT.parent, ROOT.parent.parent)]
CHECKER = next((path for path in CHECKERS if path.is_file()), None)
# Raise these when the parser gets better; never lower them.
CORE_UNDERSTOOD = 0.945  # exact + documented difference of meaning
CORE_WRONG = 0.02
HOLIDAYS_UNDERSTOOD = 0.683


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Counter[str]]:
    """Verdicts per group (core, holiday) of every peer case."""
    if CHECKER is None:
        pytest.skip("the peer corpus (../shared/parse-peer/check.py) is not beside the project")
    leavebot = shutil.which("leavebot", path=str(Path(sys.executable).parent))
    assert leavebot is not None
    results = tmp_path_factory.mktemp("peer") / "results.jsonl"
    command = [sys.executable, str(CHECKER), "--cmd", leavebot, "--no-dateparser", "--examples", "0"]
    subprocess.run([*command, "--results", str(results)], check=True, capture_output=True, timeout=120)
    counts: dict[str, Counter[str]] = {"core": Counter(), "holiday": Counter()}
    for line in results.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        counts["holiday" if case["category"] == "holiday" else "core"][case["verdict"][0]] += 1
    return counts


def understood(counts: Counter[str]) -> float:
    """The share answered exactly or with a documented difference of meaning."""
    return (counts["exact"] + counts["semantic"]) / sum(counts.values())


def test_core_peer_expressions_are_understood(outcomes: dict[str, Counter[str]]) -> None:
    """Duckling's dates, ranges, weeks, lengths and hours are read as it reads them, or as documented."""
    assert understood(outcomes["core"]) >= CORE_UNDERSTOOD


def test_core_peer_expressions_are_rarely_misread(outcomes: dict[str, Counter[str]]) -> None:
    """A misread (another request than meant) is worse than a refusal: at most 2% of the core."""
    core = outcomes["core"]
    assert core["wrong"] + core["crash"] <= CORE_WRONG * sum(core.values())


def test_named_holidays_of_the_peer_corpus_are_understood(outcomes: dict[str, Counter[str]]) -> None:
    """Named holidays resolve to the right day of the right year, for the US and the religious calendars."""
    assert understood(outcomes["holiday"]) >= HOLIDAYS_UNDERSTOOD
