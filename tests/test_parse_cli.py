"""`leavebot parse` as a real process: the whole corpus through --batch, --tz, --locale, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from parse_corpus import CASES, Case
from test_cli import assert_one_line_error, clean_env


def leavebot(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run `leavebot ARGS` in ``cwd`` with only ``env`` configured, feeding it ``stdin``."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        cwd=cwd,
        env=clean_env(PYTHONIOENCODING="utf-8", **env),
    )


MONDAY = date(2026, 11, 23)
Context = tuple[date, str, tuple[str, ...]]  # today, locale, leave types: set once per run of the command


def corpus_groups() -> dict[Context, list[Case]]:
    """The corpus grouped by what the command line sets once per run."""
    groups: dict[Context, list[Case]] = defaultdict(list)
    for case in CASES:
        groups[(case.today_date(), case.locale, case.types)].append(case)
    return groups


def test_batch_prints_the_corpus_answer_for_every_line(tmp_path: Path) -> None:
    """`leavebot parse --batch FILE --json` prints, line for line, each corpus case's draft or error, and exits 0.

    The cases set on the corpus's Monday, every issue example among them, in one process per locale and set
    of leave types (the in-process corpus test covers every other today).
    """
    groups = [(context, cases) for context, cases in corpus_groups().items() if context[0] == MONDAY]
    with ThreadPoolExecutor(max_workers=8) as pool:  # one process per context; they run side by side
        results = list(pool.map(lambda group: run_batch(tmp_path, *group), enumerate(groups)))

    wrong = [
        f"{case.text!r} [{context[0]}, {context[1]}]: {answer}"
        for (context, cases), printed in zip(groups, results, strict=True)
        for case, answer in zip(cases, printed, strict=True)
        if not answers_case(answer, case)
    ]
    assert wrong == []


def run_batch(tmp_path: Path, number: int, group: tuple[Context, list[Case]]) -> list[dict[str, object]]:
    """The JSON lines `leavebot parse --batch` prints for one group of cases (asserting it exits 0)."""
    (today, locale, types), cases = group
    texts = tmp_path / f"texts-{number}.txt"
    texts.write_text("".join(f"{case.text}\n" for case in cases), encoding="utf-8")
    result = leavebot(
        tmp_path,
        *("parse", "--batch", texts.name, "--json", "--today", today.isoformat(), "--locale", locale),
        LOCAL_LEAVE_TYPES=",".join(types),
    )
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(printed) == len(cases)
    return printed


def answers_case(answer: dict[str, object], case: Case) -> bool:
    """True when a printed line is the case's exact draft, or an error object containing its words."""
    if case.expected is not None:
        return answer == case.expected
    return list(answer) == ["error"] and case.error in str(answer["error"])


def test_batch_reads_stdin_and_keeps_blank_lines_in_step(tmp_path: Path) -> None:
    """`--batch -` reads stdin; a blank line gets its own error line, so output line N answers input line N."""
    result = leavebot(
        tmp_path, "parse", "--batch", "-", "--json", "--today", "2026-11-23", stdin="fri pm\n\nmon\n"
    )

    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stderr
    assert [a.get("start_date") or "error" for a in answers] == ["2026-11-27", "error", "2026-11-30"]


def test_batch_without_json_prints_text_and_understanding_side_by_side(tmp_path: Path) -> None:
    """Without --json, each line is the text, a tab, and the dates in words (or the error)."""
    result = leavebot(tmp_path, "parse", "--batch", "-", "--today", "2026-11-23", stdin="fri pm\nblah\n")

    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == "fri pm\tFri 27 Nov (afternoon); type: -; reason: -"
    assert second.startswith("blah\terror: I couldn't understand “blah”")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_tz_makes_today_the_date_in_that_zone(tmp_path: Path, zone: str) -> None:
    """Without --today, `today` is the current date in the --tz zone (these two zones are 25 hours apart)."""
    before = datetime.now(ZoneInfo(zone)).date()
    result = leavebot(tmp_path, "parse", "today", "--tz", zone, "--json")
    after = datetime.now(ZoneInfo(zone)).date()

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["start_date"] in {before.isoformat(), after.isoformat()}


def test_locale_decides_numeric_dates(tmp_path: Path) -> None:
    """`--locale en-US` reads 12/24 month first."""
    result = leavebot(tmp_path, "parse", "12/24", "--locale", "en-US", "--today", "2026-11-23", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["start_date"] == "2026-12-24"


def test_a_typed_leave_type_is_the_configured_providers(tmp_path: Path) -> None:
    """`leave_type` is the name of the configured provider's matching type."""
    result = leavebot(
        tmp_path, "parse", "ill fri", "--today", "2026-11-23", "--json", LOCAL_LEAVE_TYPES="Sickness"
    )

    assert json.loads(result.stdout)["leave_type"] == "Sickness"


@pytest.mark.parametrize(
    ("args", "naming"),
    [
        pytest.param(["half day friday"], "the morning or the afternoon", id="not-understood"),
        pytest.param(["tomorrow", "--tz", "Mars/Base"], "Mars/Base", id="unknown-zone"),
        pytest.param(["tomorrow", "--locale", "fr-FR"], "fr-FR", id="unsupported-locale"),
        pytest.param(["--batch", "missing.txt"], "missing.txt", id="missing-batch-file"),
    ],
)
def test_an_error_is_one_plain_line_and_exit_1(tmp_path: Path, args: list[str], naming: str) -> None:
    """Whatever cannot be done prints one line naming it, exits 1, and shows no traceback."""
    result = leavebot(tmp_path, "parse", *args, "--json")

    assert_one_line_error(result, code=1, naming=naming)
    assert result.stdout == ""


def test_parse_touches_no_database(tmp_path: Path) -> None:
    """Showing how a text is understood creates no database file in the working directory."""
    leavebot(tmp_path, "parse", "fri pm", "--json")

    assert list(tmp_path.iterdir()) == []


def test_a_date_outside_the_current_year_is_printed_with_it(tmp_path: Path) -> None:
    """`leavebot parse` writes the year of a date outside --today's year, month first for en-US."""
    result = leavebot(tmp_path, "parse", "jan 5", "--today", "2026-11-23")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Tue 5 Jan 2027;")
    result = leavebot(tmp_path, "parse", "7/4", "--today", "2026-11-23", "--locale", "en-US")
    assert result.stdout.startswith("Sun Jul 4, 2027;")
