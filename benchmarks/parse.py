"""How long `/leave <text>` parsing takes: warm per-phrase median and p99 over the corpus, and first-call costs.

    .venv/bin/python benchmarks/parse.py [--rounds 20] [--cold-runs 5] [--compare-dateparser]

Warm: after `warm_up()`, every corpus text is parsed once per round (in a shuffled order, so no phrase
benefits from its neighbour) and each call is timed alone. Cold: fresh interpreters time importing
`bot.parsing`, the first parse of an everyday text, the first parse that needs dateparser, and `warm_up()`
(the median of several runs). `--compare-dateparser` also times dateparser alone, pinned and auto-detecting.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COLD = """
import json, time
from datetime import date
started = time.perf_counter()
import providers.models
models = time.perf_counter()
import bot.parsing as p
imported = time.perf_counter()
p.parse_request("fri pm for the dentist", today=date(2026, 11, 23))
grammar = time.perf_counter()
p.parse_request("the day after tomorrow", today=date(2026, 11, 23))
words = time.perf_counter()
print(json.dumps({
    "models": models - started, "import": imported - models, "first": grammar - imported, "dateparser": words - grammar
}))
"""
WARM_UP = """
import json, time
from bot.parsing import warm_up
started = time.perf_counter()
warm_up()
print(json.dumps({"warm_up": time.perf_counter() - started}))
"""
DATEPARSER = """
import json, statistics, sys, time
languages = json.loads(sys.argv[1])
import dateparser
phrases = ["fri pm for the dentist", "24th December", "the day after tomorrow", "the 3rd", "blah"]
started = time.perf_counter()
dateparser.parse(phrases[0], languages=languages)
first = time.perf_counter() - started
times = []
for _ in range(10):
    for phrase in phrases:
        started = time.perf_counter()
        dateparser.parse(phrase, languages=languages)
        times.append(time.perf_counter() - started)
print(json.dumps({"first": first, "warm": statistics.median(times)}))
"""


def main() -> None:
    """Print the figures."""
    options = _options()
    cases = _corpus()
    timings, slowest = _warm(cases, options.rounds)
    print(f"corpus: {len(cases)} phrases x {options.rounds} rounds, warm (after warm_up())")
    print(
        f"  median {_ms(statistics.median(timings))}   p99 {_ms(_percentile(timings, 99))}   max {_ms(max(timings))}"
    )
    print(f"  slowest phrase (by its median): {slowest[1]!r} {_ms(slowest[0])}")
    cold = [_run(COLD) for _ in range(options.cold_runs)]
    warm_up = [_run(WARM_UP)["warm_up"] for _ in range(options.cold_runs)]
    print(f"cold process (median of {options.cold_runs} fresh interpreters)")
    print(f"  import providers.models (pydantic, the providers package) {_ms(_median(cold, 'models'))}")
    print(f"  then import bot.parsing                                   {_ms(_median(cold, 'import'))}")
    print(f"  first parse, grammar only                                 {_ms(_median(cold, 'first'))}")
    print(f"  first parse needing dateparser, without warm_up()         {_ms(_median(cold, 'dateparser'))}")
    print(f"  warm_up() once imported (serve/socket pay it at start)    {_ms(statistics.median(warm_up))}")
    if options.compare_dateparser:
        print("dateparser alone, 5 phrases (first call in a fresh process; warm median)")
        for label, languages in (("pinned ['en']", ["en"]), ("auto-detect", None)):
            figures = _run(DATEPARSER, json.dumps(languages))
            print(f"  {label:14} first {_ms(figures['first'])}   warm {_ms(figures['warm'])}")


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each phrase is parsed warm")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters for the cold figures")
    parser.add_argument("--compare-dateparser", action="store_true", help="also time dateparser alone")
    return parser.parse_args()


def _corpus() -> list[Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    from parse_corpus import CASES

    return list(CASES)


def _warm(cases: list[Any], rounds: int) -> tuple[list[float], tuple[float, str]]:
    """Every call's time, and the slowest phrase by its median."""
    sys.path.insert(0, str(ROOT))
    from bot.parsing import ParseError, parse_request, warm_up
    from providers.models import LeaveType

    warm_up()
    calls = [
        (
            case.text,
            case.today_date(),
            [LeaveType(id=str(n), name=t) for n, t in enumerate(case.types)],
            case.locale,
        )
        for case in cases
    ]
    per_phrase: dict[int, list[float]] = {n: [] for n in range(len(calls))}
    order = list(range(len(calls)))
    for _ in range(rounds):
        random.shuffle(order)
        for n in order:
            text, today, types, locale = calls[n]
            started = time.perf_counter()
            with contextlib.suppress(ParseError):
                parse_request(text, today=today, leave_types=types, locale=locale)
            per_phrase[n].append(time.perf_counter() - started)
    timings = [t for times in per_phrase.values() for t in times]
    worst = max(per_phrase, key=lambda n: statistics.median(per_phrase[n]))
    return timings, (statistics.median(per_phrase[worst]), calls[worst][0])


def _run(script: str, *args: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
