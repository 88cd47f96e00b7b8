"""A closed-loop HTTP/1.1 load generator on raw asyncio streams: ``concurrency`` keep-alive connections,
each sending pre-built requests back to back and timing each one from write to last byte read.

Requests are built (and signed) before the clock starts, so the generator does almost no work per
request; `ack.py` measures its ceiling against a trivial endpoint to prove it is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Result:
    """What one closed-loop run saw."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per completed request
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # connection failures and malformed responses
    elapsed: float = 0.0
    sample: dict[int, bytes] = field(default_factory=dict)  # the first body seen for each status

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in seconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]


def http_request(
    method: str, path: str, port: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    """The exact bytes of one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one response (Content-Length or chunked); return its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length) if length else b""
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")
    return status, body


async def closed_loop(
    port: int, requests: list[bytes], *, concurrency: int, duration: float, host: str = "127.0.0.1"
) -> Result:
    """Send ``requests`` (each at most once) over ``concurrency`` connections until they or ``duration`` run out."""
    result = Result(concurrency)
    cursor = iter(requests)
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for request in cursor:
                started = time.perf_counter()
                writer.write(request)
                try:
                    status, body = await read_response(reader)
                except (asyncio.IncompleteReadError, ValueError, ConnectionError):
                    result.errors += 1
                    return
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
                result.sample.setdefault(status, body)
                if started > deadline:
                    return
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - began
    return result


async def one(port: int, request: bytes) -> tuple[float, int, bytes]:
    """Send one request on a fresh connection: (latency, status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.perf_counter()
        writer.write(request)
        status, body = await read_response(reader)
        return time.perf_counter() - started, status, body
    finally:
        writer.close()
