"""Ack latency under load, leavebot side by side with a bare Bolt app, all in one run.

Starts the world (the tests' fake Slack and a fake HR system that answers in 2 s) and, one at a time,
each server under test in its own process; this process is the load generator. Each server gets
correctly signed `/leave <text>`, `/leave who`, Submit clicks and modal submissions at concurrency
1, 10 and 50, every request unique (leavebot drops a repeated trigger id). After each leavebot cell
the script waits for the bot's work after the ack to finish and checks it was all done.

    .venv/bin/python benchmarks/ack.py            # prints the tables
    .venv/bin/python benchmarks/ack.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import slack_requests as sr  # noqa: E402  (from tests/, put on the path above)
from loadgen import Result, closed_loop, http_request, one  # noqa: E402
from people import REQUESTERS  # noqa: E402
from servers import SECRET  # noqa: E402

from bot.views import ids  # noqa: E402
from bot.views import requests as views  # noqa: E402
from providers.models import Draft  # noqa: E402

CONCURRENCY = (1, 10, 50)
BARE = ("bare-default", "bare-pbr")
LEAVEBOT = ("leavebot-local", "leavebot-remote")
KINDS = ("slash-text", "slash-who", "click", "submission")
TEXT = "fri pm for the dentist"
DAY = date.today() + timedelta(days=30)
TRIVIAL_REQUESTS = 200_000  # the same bytes each time: cheap to build, and enough for the ceiling


@dataclass
class Cell:
    """One server × kind × concurrency measurement."""

    server: str
    kind: str
    concurrency: int
    requests: int
    throughput: float
    p50: float
    p90: float
    p99: float
    max: float
    failed: int  # transport errors and non-200 answers
    work: str = ""  # for leavebot: was the work after the ack done?

    @classmethod
    def of(cls, server: str, kind: str, result: Result) -> Cell:
        """Summarise a run (latencies in ms)."""
        ok = result.statuses.get(200, 0)
        return cls(
            server,
            kind,
            result.concurrency,
            len(result.latencies),
            result.throughput,
            result.percentile(50) * 1000,
            result.percentile(90) * 1000,
            result.percentile(99) * 1000,
            max(result.latencies, default=math.nan) * 1000,
            result.errors + len(result.latencies) - ok,
        )


@dataclass
class ServerReport:
    """Everything measured on one server."""

    name: str
    ready_s: float = 0.0  # import to ready, measured inside the server
    spawn_s: float = 0.0  # process start to ready, measured from outside
    first_ms: dict[str, float] = field(default_factory=dict)  # the very first request of each kind
    rss_mb: float = 0.0  # after start
    peak_rss_mb: float = 0.0  # at the end of the run
    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Requests:
    """Correctly signed, unique Slack requests of each kind, as bytes ready to send."""

    def __init__(self, port: int, hooks: str) -> None:
        self.port, self.hooks = port, hooks
        self.people = itertools.cycle(REQUESTERS)

    def build(self, kind: str, count: int) -> list[bytes]:
        """``count`` requests of ``kind``; ``trivial`` is a plain GET."""
        if kind == "trivial":
            return [http_request("GET", "/", self.port)] * count
        build = getattr(self, "_" + kind.replace("-", "_"))
        return [self._signed(build(next(self.people))) for _ in range(count)]

    def _signed(self, body: str) -> bytes:
        headers = sr.signed_headers(body, SECRET)
        return http_request("POST", "/slack/events", self.port, body.encode(), headers)

    def _slash_text(self, user: str) -> str:
        return sr.slash_command(TEXT, user_id=user, response_url=f"{self.hooks}/text")

    def _slash_who(self, user: str) -> str:
        return sr.slash_command("who", user_id=user, response_url=f"{self.hooks}/who")

    def _click(self, user: str) -> str:
        draft = Draft(start_date=DAY, end_date=DAY, start="PM", end="PM", reason="the dentist")
        [_, actions] = views.preview(draft, uuid.uuid4().hex, date.today())
        value = actions["elements"][0]["value"]
        payload = sr.block_action(
            user_id=user, action_id=ids.SUBMIT, value=value, response_url=f"{self.hooks}/click"
        )
        return sr.interactive(payload)

    def _submission(self, user: str) -> str:
        def picked(block: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
            return {block: {block: {"type": kind, **value}}}

        values = {
            **picked(ids.START_DATE, "datepicker", {"selected_date": DAY.isoformat()}),
            **picked(ids.END_DATE, "datepicker", {"selected_date": (DAY + timedelta(days=2)).isoformat()}),
            **picked(ids.START_PART, "static_select", {"selected_option": {"value": "AM"}}),
            **picked(ids.END_PART, "static_select", {"selected_option": {"value": "PM"}}),
            **picked(ids.LEAVE_TYPE, "static_select", {"selected_option": {"value": "1"}}),
            **picked(ids.REASON, "plain_text_input", {"value": "family visit"}),
        }
        payload = sr.view_submission(
            user_id=user, callback_id=ids.REQUEST_MODAL, values=values, view_id=f"V{uuid.uuid4().hex[:10]}"
        )
        return sr.interactive(payload)


class Process:
    """A child process that announces itself with one JSON line on stdout."""

    def __init__(self, proc: asyncio.subprocess.Process, info: dict[str, Any], spawn_s: float) -> None:
        self.proc, self.info, self.spawn_s = proc, info, spawn_s

    @classmethod
    async def start(cls, script: str, *args: str, log: Path, cwd: Path) -> Process:
        """Start ``python benchmarks/<script> args…`` and wait for its JSON line (stderr goes to ``log``)."""
        began = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / script),
            *args,
            "--parent",
            str(os.getpid()),
            stdout=asyncio.subprocess.PIPE,
            stderr=log.open("ab"),
            cwd=cwd,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"{script} {' '.join(args)} did not start; see {log}")
        return cls(proc, json.loads(line), time.perf_counter() - began)

    async def stop(self) -> None:
        """Terminate, then kill if it will not go."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def median_report(rounds: list[ServerReport]) -> ServerReport:
    """One server's rounds as one report: each cell from its median-p99 round, start and memory likewise."""
    by_ready = sorted(rounds, key=lambda r: r.ready_s)
    report = replace(by_ready[len(by_ready) // 2], cells=[])
    report.peak_rss_mb = max(r.peak_rss_mb for r in rounds)
    report.notes = [note for r in rounds for note in r.notes]
    for cells in zip(*(r.cells for r in rounds), strict=True):
        report.cells.append(sorted(cells, key=lambda c: c.p99)[len(cells) // 2])
    return report


async def get_json(port: int, path: str) -> dict[str, Any]:
    """GET a JSON document from a local server."""
    _, status, body = await one(port, http_request("GET", path, port))
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    return json.loads(body)  # type: ignore[no-any-return]


class Bench:
    """One benchmark run: the world, the servers in turn, and what they measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.log = workdir / "servers.log"
        self.world: Process | None = None
        self.idle_tasks = 0

    @property
    def world_port(self) -> int:
        assert self.world is not None
        return int(self.world.info["hr_url"].rsplit(":", 1)[1])

    async def run(self) -> dict[str, Any]:
        """Measure the generator's ceiling, then every server."""
        self.world = await Process.start(
            "world.py", "--delay", str(self.args.delay), log=self.log, cwd=self.workdir
        )
        try:
            reports = [await self.server(name) for name in ("trivial-raw", "trivial-asgi")]
            # Rounds take every server in turn, so a noisy minute on a shared machine hits them all
            # alike; each cell then reports its median round.
            rounds = [
                [await self.server(name) for name in self.args.servers] for _ in range(self.args.rounds)
            ]
        finally:
            await self.world.stop()
        reports += [median_report([r[i] for r in rounds]) for i in range(len(self.args.servers))]
        return {"reports": [asdict(r) for r in reports], "settings": vars(self.args)}

    async def server(self, name: str) -> ServerReport:
        """Start one server, load it with every kind at every concurrency, and stop it."""
        assert self.world is not None
        urls = ["--slack-url", self.world.info["slack_url"], "--hr-url", self.world.info["hr_url"]]
        process = await Process.start(
            "servers.py", name, *urls, "--workdir", str(self.workdir), log=self.log, cwd=self.workdir
        )
        port = process.info["port"]
        report = ServerReport(name, ready_s=process.info["ready_s"], spawn_s=process.spawn_s)
        trivial = name.startswith("trivial")
        kinds = ("trivial",) if trivial else self.args.kinds
        requests = Requests(port, self.world.info["slack_url"].removesuffix("/api/") + "/hooks")
        print(f"{name}: ready in {report.spawn_s:.2f} s", file=sys.stderr, flush=True)
        try:
            if not trivial:
                self.idle_tasks = (await get_json(port, "/bench/stats"))["tasks"]
                for kind in kinds:
                    latency, status, _ = await one(port, requests.build(kind, 1)[0])
                    report.first_ms[kind] = latency * 1000
                    if status != 200:
                        report.notes.append(f"first {kind} answered {status}")
                for kind in kinds:  # warm up every path before timing
                    await closed_loop(port, requests.build(kind, 20), concurrency=5, duration=10)
                await self.drain(port, report)
                report.rss_mb = (await get_json(port, "/bench/stats"))["rss_mb"]
            for kind in kinds:
                for concurrency in self.args.concurrency:
                    report.cells.append(await self.cell(name, port, requests, kind, concurrency, report))
            if not trivial:
                report.peak_rss_mb = (await get_json(port, "/bench/stats"))["peak_rss_mb"]
        finally:
            await process.stop()
        return report

    async def cell(
        self, name: str, port: int, requests: Requests, kind: str, concurrency: int, report: ServerReport
    ) -> Cell:
        """One measurement; for leavebot, also wait for and check the work done after the acks."""
        began = time.perf_counter()
        leavebot = name in LEAVEBOT
        count = self.args.leavebot_requests if leavebot else self.args.requests
        built = requests.build(kind, TRIVIAL_REQUESTS if kind == "trivial" else count)
        if leavebot:
            await get_json(port, "/bench/reset")  # every cell starts with no leave booked
        before = await self.work_counts(port) if leavebot else {}
        result = await closed_loop(port, built, concurrency=concurrency, duration=self.args.duration)
        cell = Cell.of(name, kind, result)
        if cell.failed:
            statuses = {s: n for s, n in result.statuses.items() if s != 200}
            sample = {s: result.sample[s][:200].decode(errors="replace") for s in statuses}
            report.notes.append(
                f"{kind} c={concurrency}: {result.errors} errors, statuses {statuses} {sample}"
            )
        if leavebot:
            await self.drain(port, report)
            cell.work = self.judge(kind, cell.requests, before, await self.work_counts(port), result)
        print(
            f"  {name:16} {kind:11} c={concurrency:<3} {cell.throughput:8.0f}/s  p50 {cell.p50:7.1f}  "
            f"p99 {cell.p99:7.1f} ms  {cell.work}  [{time.perf_counter() - began:.1f} s]",
            file=sys.stderr,
            flush=True,
        )
        return cell

    async def work_counts(self, port: int) -> dict[str, int]:
        """Leave requests by status in the bot's database, and calls the fake Slack saw, by method."""
        stats = await get_json(port, "/bench/stats")
        slack = await get_json(self.world_port, "/slack-stats")
        return {**{f"request:{s}": n for s, n in stats["requests"].items()}, **slack}

    @staticmethod
    def judge(kind: str, sent: int, before: dict[str, int], after: dict[str, int], result: Result) -> str:
        """In words: did every request's work after the ack get done?"""

        def grew(key: str) -> int:
            return after.get(key, 0) - before.get(key, 0)

        if kind == "slash-text":
            body = result.sample.get(200, b"")
            return "preview in the ack" if b'"blocks"' in body else f"unexpected ack: {body[:80]!r}"
        if kind == "slash-who":
            return f"{grew('hooks')}/{sent} answered"
        booked, failed = grew("request:pending"), grew("request:failed")
        stuck = grew("request:submitting")
        return (
            f"{booked}/{sent} booked"
            + (f", {failed} failed" if failed else "")
            + (f", {stuck} stuck" if stuck else "")
        )

    async def drain(self, port: int, report: ServerReport) -> None:
        """Wait until the server's work after the acks is done: nothing busy for leavebot (its background
        loops are tasks that never end), no more tasks than when idle for the bare apps."""
        deadline = time.monotonic() + self.args.drain_timeout
        quiet = 0
        while time.monotonic() < deadline:
            stats = await get_json(port, "/bench/stats")
            idle = stats["busy"] == 0 if "busy" in stats else stats["tasks"] <= self.idle_tasks
            quiet = quiet + 1 if idle else 0
            if quiet >= 2:
                return
            await asyncio.sleep(0.1)
        report.notes.append(f"work still running {self.args.drain_timeout:.0f} s after a cell")


def ratio(a: float, b: float) -> str:
    """a/b, two decimals."""
    return f"{a / b:.2f}" if b and not math.isnan(a) else "–"


def render(data: dict[str, Any]) -> str:
    """The markdown tables of a run."""
    settings = data["settings"]
    reports = {r["name"]: r for r in data["reports"]}
    cells = {(c["server"], c["kind"], c["concurrency"]): c for r in data["reports"] for c in r["cells"]}
    servers = [n for n in reports if not n.startswith("trivial")]
    out = [
        f"Each cell: at most {settings['duration']} s, {settings['requests']} requests (bare apps) or "
        f"{settings['leavebot_requests']} (leavebot, whose work after each ack is then awaited and checked); "
        f"the fake HR system answers in {settings['delay']} s. Latencies in ms, measured by the client. "
        f"Every server was measured {settings['rounds']} times, the servers taking turns; each cell is its "
        "median round by p99, start time the median, peak memory the highest.",
        "",
        *ceiling(reports, cells),
        "",
        "### p99 ack latency side by side (ms), and leavebot's ratio to each bare app",
        "",
    ]
    pairs = [(lb, bare) for lb in LEAVEBOT if lb in reports for bare in BARE if bare in reports]
    out += [
        "| request | c | " + " | ".join(servers) + "".join(f" | {lb} / {bare}" for lb, bare in pairs) + " |"
    ]
    out += ["| --- | --- |" + " --- |" * (len(servers) + len(pairs))]
    for kind in settings["kinds"]:
        for concurrency in settings["concurrency"]:
            row = [f"{cells[(n, kind, concurrency)]['p99']:.1f}" for n in servers]
            row += [
                ratio(cells[(lb, kind, concurrency)]["p99"], cells[(bare, kind, concurrency)]["p99"])
                for lb, bare in pairs
            ]
            out.append(f"| {kind} | {concurrency} | " + " | ".join(row) + " |")
    out += ["", "### Every cell", ""]
    out += [
        "| server | request | c | req/s | p50 | p90 | p99 | max | failed | work after the ack |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in settings["kinds"]:
        for concurrency in settings["concurrency"]:
            for name in servers:
                c = cells[(name, kind, concurrency)]
                out.append(
                    f"| {name} | {kind} | {concurrency} | {c['throughput']:.0f} | {c['p50']:.1f} | "
                    f"{c['p90']:.1f} | {c['p99']:.1f} | {c['max']:.1f} | {c['failed']} | {c['work']} |"
                )
    out += ["", "### Start and memory", ""]
    out += [
        "| server | import → ready s | process start → ready s | first request of each kind (ms) | RSS after start MB | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in servers:
        r = reports[name]
        first = ", ".join(f"{k} {v:.1f}" for k, v in r["first_ms"].items())
        out.append(
            f"| {name} | {r['ready_s']:.2f} | {r['spawn_s']:.2f} | {first} | {r['rss_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    out += ["", *targets(settings, cells, reports)]
    notes = [f"- {name}: {note}" for name, r in reports.items() for note in r["notes"]]
    return "\n".join(out + (["", "Notes:", *notes] if notes else [])) + "\n"


def ceiling(reports: dict[str, Any], cells: dict[tuple[str, str, int], Any]) -> list[str]:
    """The load generator against trivial endpoints, and how far above the fastest server it stays."""
    out = ["### Load generator ceiling (trivial endpoints)", ""]
    out += ["| endpoint | c | req/s | p50 ms | p99 ms |", "| --- | --- | --- | --- | --- |"]
    for name in ("trivial-raw", "trivial-asgi"):
        for c in reports[name]["cells"]:
            out.append(
                f"| {name} | {c['concurrency']} | {c['throughput']:.0f} | {c['p50']:.2f} | {c['p99']:.2f} |"
            )
    generator = max(c["throughput"] for c in reports["trivial-raw"]["cells"])
    fastest = max(
        (c["throughput"] for (name, _, _), c in cells.items() if not name.startswith("trivial")), default=0
    )
    if fastest:
        out += [
            "",
            f"The generator reaches {generator:.0f} req/s against a bare socket, "
            f"{generator / fastest:.0f}× the fastest server measured ({fastest:.0f} req/s): it is not the bottleneck.",
        ]
    return out


def targets(
    settings: dict[str, Any], cells: dict[tuple[str, str, int], Any], reports: dict[str, Any]
) -> list[str]:
    """Issue 12's targets, each held or not, from this run's figures."""
    lines = ["### Targets", ""]
    kinds, concurrency = settings["kinds"], settings["concurrency"]
    for lb in (lb for lb in LEAVEBOT if lb in reports):
        if 10 in concurrency and set(BARE) <= set(reports):
            worst = max(cells[(lb, k, 10)]["p99"] / cells[("bare-default", k, 10)]["p99"] for k in kinds)
            floor = max(cells[(lb, k, 10)]["p99"] / cells[("bare-pbr", k, 10)]["p99"] for k in kinds)
            verdict = "holds" if worst <= 1 else "MISSED"
            lines.append(
                f"- {lb}: p99 at c=10 no worse than the bare default Bolt app's, every request kind: "
                f"{verdict} (worst ratio {worst:.2f}; to the bare process_before_response app, the floor: {floor:.2f})"
            )
        if 50 in concurrency:
            worst_ms = max(cells[(lb, k, 50)]["p99"] for k in kinds)
            verdict = "holds" if worst_ms < 1000 else "MISSED"
            lines.append(f"- {lb}: p99 at c=50 under 1 s: {verdict} (worst {worst_ms:.0f} ms)")
        r = reports[lb]
        lines.append(
            f"- {lb}: import → ready under 2 s: {'holds' if r['ready_s'] < 2 else 'MISSED'} ({r['ready_s']:.2f} s); "
            f"memory under 150 MB: {'holds' if r['peak_rss_mb'] < 150 else 'MISSED'} (peak {r['peak_rss_mb']:.0f} MB)"
        )
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the defaults keep a full run to about four minutes)."""
    parser = argparse.ArgumentParser(description="Ack latency of leavebot and of a bare Bolt app under load.")
    parser.add_argument("--servers", nargs="+", default=[*BARE, *LEAVEBOT], choices=[*BARE, *LEAVEBOT])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--concurrency", nargs="+", type=int, default=list(CONCURRENCY))
    parser.add_argument("--duration", type=float, default=1.5, help="seconds per cell at most")
    parser.add_argument("--requests", type=int, default=6000, help="requests per cell at most (bare apps)")
    parser.add_argument(
        "--leavebot-requests", type=int, default=200, help="requests per leavebot cell at most"
    )
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the fake HR system takes per call")
    parser.add_argument(
        "--rounds", type=int, default=3, help="times every server is measured; cells report the median"
    )
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    parser.add_argument("--workdir", type=Path, help="keep the databases and servers.log here")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    return parser.parse_args(argv)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole benchmark in a scratch directory."""
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return await Bench(args, args.workdir).run()
    with tempfile.TemporaryDirectory(prefix="leavebot-bench-") as workdir:
        try:
            return await Bench(args, Path(workdir)).run()
        except BaseException:
            print((Path(workdir) / "servers.log").read_text()[-3000:], file=sys.stderr)
            raise


def main(argv: list[str] | None = None) -> str:
    """Run, print the tables, and return them."""
    args = parse_args(argv)
    data = asyncio.run(measure(args))
    if args.json:
        args.json.write_text(json.dumps(data, indent=1, default=str))
    tables = render(data)
    print(tables)
    return tables


if __name__ == "__main__":
    main()
