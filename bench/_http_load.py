"""The feedback benchmark's HTTP load generator, run in its own process by bench/feedback_submit.py.

Standard library only: asyncio, one coroutine per connection, a hand-written HTTP/1.1 request writer and
response reader. It keeps a connection open while the server allows it (gunicorn's gthread workers do)
and reconnects when the server says ``Connection: close`` (gunicorn's sync workers always do).

    python bench/_http_load.py SPEC_JSON

SPEC: {"host", "port", "warmup", "seconds", "concurrency", "timeout",
       "target": "get" with "path", or "post" with "requests_file" (one "token<TAB>urlencoded body" a line),
       "rate": null (closed loop: every connection sends its next request when the last one is answered)
               or requests/s (open loop: arrivals at that rate, each sent on a free connection; latency is
               counted from the arrival, so time spent waiting for a connection is included),
       "arrivals": "poisson" | "uniform", "seed"}

Stdout, line by line (the parent reads CPU at the two marks): ``START``, ``END``, then ``RESULT <json>``.
A request counts in the window when its answer completes inside it. Each POST body is sent at most
once: a link that ran out is not reused; the generator stops when there are none left.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter
from typing import Any

WARMUP, WINDOW, DRAIN = "warmup", "window", "drain"


class Load:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.host, self.port = spec["host"], int(spec["port"])
        self.timeout = float(spec.get("timeout", 30.0))
        self.phase = WARMUP
        self.stopping = False
        self.latencies: list[float] = []           # seconds, answers completed in the window
        self.window_status: Counter[str] = Counter()
        self.total_status: Counter[str] = Counter()  # whole run (warm-up, window, drain)
        self.errors: Counter[str] = Counter()
        self.unknown_outcome = 0    # POSTs written whose answer never came: they may or may not have been saved
        self.connections = 0
        self.window_connections = 0
        self.retries = 0
        self.ran_out_in: str | None = None
        self.max_backlog = 0
        self.not_sent_at_end = 0
        host_header = f"Host: {self.host}:{self.port}\r\nUser-Agent: partnermon-bench\r\n"
        if spec["target"] == "get":
            self.requests: list[bytes] | None = None
            self.get_request = f"GET {spec['path']} HTTP/1.1\r\n{host_header}\r\n".encode()
        else:
            self.requests = []
            with open(spec["requests_file"], encoding="ascii") as fh:
                for line in fh:
                    token, body = line.rstrip("\n").split("\t", 1)
                    raw = body.encode()
                    self.requests.append(
                        f"POST /f/{token} HTTP/1.1\r\n{host_header}"
                        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(raw)}\r\n\r\n".encode()
                        + raw)
        self.next_index = 0

    def next_request(self) -> bytes | None:
        if self.requests is None:
            return self.get_request
        if self.next_index >= len(self.requests):
            if self.ran_out_in is None:
                self.ran_out_in = self.phase
            return None
        self.next_index += 1
        return self.requests[self.next_index - 1]

    # --- one connection ----------------------------------------------------------------------------

    async def _exchange(self, conn: list[Any], data: bytes) -> int:
        """Send one request on the connection held in ``conn`` ([reader, writer] or [None, None]);
        return the status. Reconnects (once) when a kept-alive connection was closed before answering."""
        for _ in range(2):
            fresh = conn[1] is None
            if fresh:
                conn[0], conn[1] = await asyncio.open_connection(self.host, self.port)
                self.connections += 1
                if self.phase == WINDOW:
                    self.window_connections += 1
            reader, writer = conn
            writer.write(data)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                self._close(conn)
                partial = getattr(exc, "partial", b"")
                if fresh or partial:
                    raise ConnectionError("connection closed before an answer") from None
                # The server closed an idle kept-alive connection before reading this request: resend.
                self.retries += 1
                continue
            lines = head.split(b"\r\n")
            version, status = lines[0].split(b" ", 2)[:2]
            length: int | None = None
            chunked = False
            close = version == b"HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
            if chunked:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            elif length is not None:
                await reader.readexactly(length)
            else:
                await reader.read()
                close = True
            if close:
                self._close(conn)
            return int(status)
        raise ConnectionError("connection closed twice before an answer")

    @staticmethod
    def _close(conn: list[Any]) -> None:
        if conn[1] is not None:
            conn[1].close()
        conn[0] = conn[1] = None

    async def _one(self, conn: list[Any], data: bytes, started: float) -> None:
        is_post = self.requests is not None
        try:
            async with asyncio.timeout(self.timeout):
                status = await self._exchange(conn, data)
        except TimeoutError:
            self._close(conn)
            self._failed("timeout", is_post)
            return
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self._close(conn)
            self._failed(type(exc).__name__ + (f": {exc}"[:80] if str(exc) else ""), is_post)
            return
        done = time.perf_counter()
        key = str(status)
        self.total_status[key] += 1
        if self.phase == WINDOW:
            self.window_status[key] += 1
            self.latencies.append(done - started)

    def _failed(self, what: str, is_post: bool) -> None:
        self.total_status["error"] += 1
        if is_post:
            self.unknown_outcome += 1
        if self.phase == WINDOW:
            self.window_status["error"] += 1
            self.errors[what] += 1

    # --- closed and open loops --------------------------------------------------------------------------

    async def closed_worker(self) -> None:
        conn: list[Any] = [None, None]
        while not self.stopping:
            data = self.next_request()
            if data is None:
                break
            await self._one(conn, data, time.perf_counter())
        self._close(conn)

    async def open_worker(self, queue: asyncio.Queue[float | None]) -> None:
        conn: list[Any] = [None, None]
        while True:
            arrival = await queue.get()
            if arrival is None or self.stopping:
                break
            data = self.next_request()
            if data is None:
                break
            await self._one(conn, data, arrival)
        self._close(conn)

    async def arrivals(self, queue: asyncio.Queue[float | None], rate: float) -> None:
        rng = random.Random(self.spec.get("seed", 1))
        poisson = self.spec.get("arrivals", "poisson") == "poisson"
        at = time.perf_counter()
        while not self.stopping:
            at += rng.expovariate(rate) if poisson else 1.0 / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.stopping:
                break
            queue.put_nowait(at)
            self.max_backlog = max(self.max_backlog, queue.qsize())

    async def run(self) -> dict[str, Any]:
        concurrency = int(self.spec["concurrency"])
        rate = self.spec.get("rate")
        queue: asyncio.Queue[float | None] = asyncio.Queue()
        if rate:
            tasks = [asyncio.create_task(self.open_worker(queue)) for _ in range(concurrency)]
            feeder = asyncio.create_task(self.arrivals(queue, float(rate)))
        else:
            tasks = [asyncio.create_task(self.closed_worker()) for _ in range(concurrency)]
            feeder = None
        await asyncio.sleep(float(self.spec["warmup"]))
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        self.phase = WINDOW
        print("START", flush=True)
        await asyncio.sleep(float(self.spec["seconds"]))
        t1 = time.perf_counter()
        self.phase = DRAIN
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        print("END", flush=True)
        self.stopping = True
        if feeder is not None:
            await feeder
            self.not_sent_at_end = queue.qsize()
            for _ in tasks:
                queue.put_nowait(None)
        await asyncio.gather(*tasks)
        lat = sorted(self.latencies)
        return {
            "window_s": t1 - t0,
            "latencies_ms": [round(x * 1000, 3) for x in lat],
            "window_status": dict(self.window_status),
            "total_status": dict(self.total_status),
            "errors": dict(self.errors),
            "unknown_outcome": self.unknown_outcome,
            "connections_opened": self.connections,
            "window_connections_opened": self.window_connections,
            "keepalive_retries": self.retries,
            "ran_out_in": self.ran_out_in,
            "requests_sent": self.next_index if self.requests is not None else None,
            "requests_available": len(self.requests) if self.requests is not None else None,
            "max_client_backlog": self.max_backlog if rate else None,
            "not_sent_at_end": self.not_sent_at_end if rate else None,
            "self_cpu_seconds": (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime),
        }


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = asyncio.run(Load(spec).run())
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
