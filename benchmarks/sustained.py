"""Sustained open-loop load: leavebot beside the bare Bolt apps at fixed arrival rates, in one run.

Requests arrive on a fixed schedule (rate r: request i is due at i/r s), whatever the server's
answers do, so a server that falls behind shows it in its latencies (each one is timed from when it was
due, not from when it could be sent). Every server runs in its own process (``servers.py``) against the
same world (``world.py``: the fake Slack and an HR system answering in 2 s). Per cell: requests sent,
answered and failed, p50/p99, and the server process's CPU seconds (utime + stime from
``/proc/<pid>/stat``) per request, measured after leavebot's work after the acks has drained and been
checked. Then a saturation search (the highest rate whose p99 stays under 100 ms) and, with
``--memory``, RSS after start and after 100,000 requests.

    .venv/bin/python benchmarks/sustained.py            # 20 s cells (about 15 minutes)
    .venv/bin/python benchmarks/sustained.py --quick    # 5 s cells
    .venv/bin/python benchmarks/sustained.py --memory   # RSS over 100,000 requests instead
    .venv/bin/python benchmarks/sustained.py --previews-only --servers bare-pbr leavebot-remote
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from ack import Process, Requests, get_json  # noqa: E402
from loadgen import Result, read_response  # noqa: E402

SERVERS = ("bare-pbr", "bare-default", "leavebot-remote")
RATES = (50, 200, 400)
# What an office sends: mostly previews, some `who`, a Submit click or a modal submission now and then.
MIX = {"slash-text": 0.55, "slash-who": 0.15, "click": 0.15, "submission": 0.15}
P99_LIMIT = 0.100
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Cell:
    """One server at one rate with one request mix."""

    server: str
    mix: str
    rate: int
    sent: int = 0
    answered: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_ms: float = 0.0  # server CPU per request, work after the ack included
    work: str = ""
    statuses: Counter[int] = field(default_factory=Counter)


async def open_loop(port: int, requests: list[bytes], rate: float) -> Result:
    """Send ``requests`` at ``rate`` a second on a fixed schedule, over as many keep-alive connections as needed."""
    result = Result(concurrency=0)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    began = time.perf_counter()

    async def send(due: float, request: bytes) -> None:
        if idle:
            reader, writer = idle.pop()
        else:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                result.errors += 1
                return
            result.concurrency += 1
        writer.write(request)
        try:
            status, body = await read_response(reader)
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            result.errors += 1
            writer.close()
            return
        result.latencies.append(time.perf_counter() - due)
        result.statuses[status] += 1
        result.sample.setdefault(status, body)
        idle.append((reader, writer))

    tasks = []
    for i, request in enumerate(requests):
        due = began + i / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(send(due, request)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - began
    for _, writer in idle:
        writer.close()
    return result


class Sustained:
    """The world, then every server in turn, each at every rate."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.log = workdir / "servers.log"
        self.world: Process | None = None

    @property
    def hooks(self) -> str:
        assert self.world is not None
        return str(self.world.info["slack_url"]).removesuffix("/api/") + "/hooks"

    @property
    def world_port(self) -> int:
        assert self.world is not None
        return int(self.world.info["hr_url"].rsplit(":", 1)[1])

    async def start(self, name: str) -> Process:
        assert self.world is not None
        urls = ["--slack-url", self.world.info["slack_url"], "--hr-url", self.world.info["hr_url"]]
        return await Process.start(
            "servers.py", name, *urls, "--workdir", str(self.workdir), log=self.log, cwd=self.workdir
        )

    def build(self, requests: Requests, mix: str, count: int, seed: int) -> list[bytes]:
        """``count`` requests: all of one kind, or the office mix in a fixed random order."""
        if mix != "mix":
            return requests.build(mix, count)
        kinds = random.Random(seed).choices(list(MIX), weights=list(MIX.values()), k=count)
        counts = Counter(kinds)
        built = {kind: iter(requests.build(kind, n)) for kind, n in counts.items()}
        return [next(built[kind]) for kind in kinds]

    async def drain(self, port: int) -> str:
        """Wait until leavebot has no work left after its acks (bare apps have none worth waiting for)."""
        deadline = time.monotonic() + self.args.drain_timeout
        quiet = 0
        while time.monotonic() < deadline:
            stats = await get_json(port, "/bench/stats")
            if "busy" not in stats:
                return ""
            quiet = quiet + 1 if stats["busy"] == 0 else 0
            if quiet >= 2:
                return ""
            await asyncio.sleep(0.1)
        return f"work still running {self.args.drain_timeout:.0f} s after the cell"

    async def counts(self, port: int) -> dict[str, int]:
        stats = await get_json(port, "/bench/stats")
        slack = await get_json(self.world_port, "/slack-stats")
        return {**{f"request:{s}": n for s, n in stats.get("requests", {}).items()}, **slack}

    async def cell(self, name: str, process: Process, mix: str, rate: int, seconds: float) -> Cell:
        port = process.info["port"]
        leavebot = name.startswith("leavebot")
        requests = Requests(port, self.hooks)
        built = self.build(requests, mix, int(rate * seconds), seed=rate)
        submits = sum(1 for r in built if b"leave_submit" in r or b"view_submission" in r)
        if leavebot:
            await get_json(port, "/bench/reset")
        before = await self.counts(port)
        cpu_before = cpu_seconds(process.proc.pid)
        result = await open_loop(port, built, rate)
        late = await self.drain(port)
        cpu = cpu_seconds(process.proc.pid) - cpu_before
        after = await self.counts(port)
        cell = Cell(name, mix, rate, sent=len(built), answered=len(result.latencies), errors=result.errors)
        cell.statuses = result.statuses
        cell.p50_ms = result.percentile(50) * 1000
        cell.p99_ms = result.percentile(99) * 1000
        cell.cpu_ms = cpu / len(built) * 1000
        if leavebot:
            booked = after.get("request:pending", 0) - before.get("request:pending", 0)
            stuck = after.get("request:submitting", 0)
            cell.work = f"{booked}/{submits} booked" + (f", {stuck} stuck" if stuck else "")
        cell.work += f" {late}" if late else ""
        if bad := {s: n for s, n in result.statuses.items() if s != 200}:
            cell.work += f" statuses {bad}"
        print(
            f"  {name:16} {mix:10} {rate:4}/s sent {cell.sent} answered {cell.answered} err {cell.errors} "
            f"p50 {cell.p50_ms:7.1f} p99 {cell.p99_ms:7.1f} ms cpu {cell.cpu_ms:.2f} ms/req {cell.work}",
            file=sys.stderr,
            flush=True,
        )
        return cell

    async def warm(self, process: Process) -> None:
        requests = Requests(process.info["port"], self.hooks)
        await open_loop(process.info["port"], self.build(requests, "mix", 200, seed=0), 100)
        await self.drain(process.info["port"])

    async def saturation(self, name: str, process: Process) -> int:
        """The highest rate (in steps of 50) whose p99 stays under 100 ms on the mix, bisected."""
        low, high = 0, self.args.max_rate
        while high - low > 50:
            rate = (low + high) // 100 * 50 or 50
            cell = await self.cell(name, process, "mix", rate, self.args.seconds / 2)
            good = cell.p99_ms < P99_LIMIT * 1000 and not cell.errors and cell.answered == cell.sent
            low, high = (rate, high) if good else (low, rate)
        return low

    async def run(self) -> dict[str, Any]:
        self.world = await Process.start("world.py", log=self.log, cwd=self.workdir)
        cells: list[Cell] = []
        saturation: dict[str, int] = {}
        memory: dict[str, tuple[float, float]] = {}
        load = [uptime()]
        try:
            for name in self.args.servers:
                process = await self.start(name)
                print(f"{name}: pid {process.proc.pid}", file=sys.stderr, flush=True)
                try:
                    await self.warm(process)
                    if self.args.memory:
                        memory[name] = await self.memory(name, process)
                        continue
                    for kind in self.args.kinds:
                        cells.append(
                            await self.cell(name, process, kind, self.args.kind_rate, self.args.seconds)
                        )
                    if self.args.previews_only:
                        continue
                    for rate in self.args.rates:
                        cells.append(await self.cell(name, process, "mix", rate, self.args.seconds))
                    if not self.args.no_saturation:
                        saturation[name] = await self.saturation(name, process)
                finally:
                    await process.stop()
                load.append(uptime())
        finally:
            await self.world.stop()
        return {"cells": cells, "saturation": saturation, "memory": memory, "load": load}

    async def memory(self, name: str, process: Process) -> tuple[float, float]:
        """RSS after start (and warm-up) and after ``--memory-requests`` previews and mix at 300/s."""
        port = process.info["port"]
        start = (await get_json(port, "/bench/stats"))["rss_mb"]
        left, chunk = self.args.memory_requests, 6000
        requests = Requests(port, self.hooks)
        while left > 0:
            built = self.build(requests, "mix", min(chunk, left), seed=left)
            await get_json(port, "/bench/reset") if name.startswith("leavebot") else None
            await open_loop(port, built, 300)
            await self.drain(port)
            left -= len(built)
        end = (await get_json(port, "/bench/stats"))["rss_mb"]
        print(f"  {name}: RSS {start:.1f} MB after start, {end:.1f} MB after", file=sys.stderr)
        return start, end


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def render(data: dict[str, Any], args: argparse.Namespace) -> str:
    cells: list[Cell] = data["cells"]
    lines = [
        "## Sustained open-loop load (`benchmarks/sustained.py`)",
        "",
        f"- When: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.seconds:.0f} s a cell; "
        "the fake HR system answers in 2 s; one run, servers in turn, each in its own process.",
        *[f"- Load: `{line}`" for line in data["load"]],
        f"- Mix: {', '.join(f'{k} {v:.0%}' for k, v in MIX.items())}. Latency from when a request was due.",
        "",
    ]
    if cells:
        lines += [
            "| server | requests | rate /s | sent | answered | errors | p50 ms | p99 ms | CPU ms/request | work after the ack |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {c.server} | {c.mix} | {c.rate} | {c.sent} | {c.answered} | {c.errors} | {c.p50_ms:.1f} | "
            f"{c.p99_ms:.1f} | {c.cpu_ms:.2f} | {c.work} |"
            for c in cells
        ]
        by = {(c.server, c.mix, c.rate): c for c in cells}
        lb, pbr = "leavebot-remote", "bare-pbr"
        lines.append("")
        if (lb, "slash-text", 200) in by and (pbr, "slash-text", 200) in by:
            r = by[lb, "slash-text", 200].cpu_ms / by[pbr, "slash-text", 200].cpu_ms
            lines.append(f"- CPU per slash-command preview, leavebot / bare-pbr: **{r:.2f}×** (goal ≤ 1.3×)")
        if (lb, "mix", 200) in by and (pbr, "mix", 200) in by:
            r = by[lb, "mix", 200].p99_ms / by[pbr, "mix", 200].p99_ms
            lines.append(f"- p99 at 200/s (mix), leavebot / bare-pbr: **{r:.2f}×** (goal ≤ 2×)")
            r = by[lb, "mix", 200].cpu_ms / by[pbr, "mix", 200].cpu_ms
            lines.append(
                f"- CPU per request at 200/s (mix, work after the ack included), leavebot / bare-pbr: {r:.2f}×"
            )
    if data["saturation"]:
        sat = ", ".join(f"{name} {rate}/s" for name, rate in data["saturation"].items())
        lines.append(f"- Saturation (highest rate, steps of 50, whose p99 < 100 ms on the mix): {sat}")
        lb, default = data["saturation"].get("leavebot-remote"), data["saturation"].get("bare-default")
        if lb is not None and default:
            lines.append(f"- Saturation, leavebot / bare-default: **{lb / default:.2f}×** (goal ≥ 1×)")
    for name, (start, end) in data["memory"].items():
        lines.append(
            f"- RSS {name}: {start:.1f} MB after start, {end:.1f} MB after {args.memory_requests} requests"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=SERVERS)
    parser.add_argument("--rates", nargs="+", type=int, default=list(RATES))
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=["slash-text"],
        choices=list(MIX),
        help="request kinds measured alone (at --kind-rate) before the mix (e.g. click submission)",
    )
    parser.add_argument("--kind-rate", type=int, default=200, help="requests a second of the --kinds cells")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per cell")
    parser.add_argument("--quick", action="store_true", help="5 s cells")
    parser.add_argument("--no-saturation", action="store_true")
    parser.add_argument(
        "--previews-only",
        action="store_true",
        help="only the --kinds cells (by default the slash-command previews at 200/s): no mix, no saturation",
    )
    parser.add_argument("--max-rate", type=int, default=1200)
    parser.add_argument("--memory", action="store_true", help="measure RSS over --memory-requests instead")
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument(
        "--results", type=Path, help="append the table to this file (e.g. benchmarks/RESULTS.md)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 5.0
    return args


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="leavebot-sustained-") as workdir:
        try:
            return await Sustained(args, Path(workdir)).run()
        except BaseException:
            print((Path(workdir) / "servers.log").read_text()[-3000:], file=sys.stderr)
            raise


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    table = render(asyncio.run(measure(args)), args)
    print(table)
    if args.results:
        with args.results.open("a") as out:
            out.write("\n" + table)


if __name__ == "__main__":
    main()
