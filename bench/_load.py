"""Shared helpers of the HTTP benchmarks (P2, P3): servers in subprocesses, wrk, open-loop load.

* :func:`serving` starts a server command on a free loopback port, waits until it answers and
  always stops it (SIGTERM, then SIGKILL);
* :func:`run_wrk` runs ``wrk --latency`` with a Lua script whose ``done()`` prints one
  ``BENCH-RESULT {json}`` line, and returns it as :class:`WrkResult`;
* :func:`open_loop` sends GET requests at a constant rate from a separate process and measures
  each latency from the request's *scheduled* send time (no coordinated omission).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"


#: The example shop the HTTP benchmarks serve.
EXAMPLE_SHOP = ROOT / "examples" / "kaffeeroesterei-shopify" / "shop.yaml"


def token_auth_shop(*, api_base_url: str | None = None) -> str:
    """The example shop file with a static Admin API token instead of its ``auth:`` block (the
    benchmarks measure intake and the block endpoint, not fetching tokens): secrets
    ``SHOPIFY_WEBHOOK_SECRET`` and ``SHOPIFY_ACCESS_TOKEN``; optionally an ``api_base_url``."""
    out: list[str] = []
    skipping = False
    for line in EXAMPLE_SHOP.read_text(encoding="utf-8").splitlines(keepends=True):
        if skipping and line.startswith("    "):
            continue
        skipping = line.rstrip() == "  auth:"
        if skipping:
            continue
        out.append(line)
        if line.rstrip() == "  secrets:":
            out.append("    webhook_secret: SHOPIFY_WEBHOOK_SECRET\n")
            out.append("    api_token: SHOPIFY_ACCESS_TOKEN\n")
        if api_base_url is not None and line.startswith("  domain:"):
            out.append(f"  api_base_url: {api_base_url}\n")
    return "".join(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(port: int, path: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            return s.recv(16).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


@contextlib.contextmanager
def serving(
    argv: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str] | None = None,
    probe: str = "/healthz",
    timeout: float = 30.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` (a server on ``port``) until the block ends; never leaves it running."""
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        list(argv),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _answers(port, probe):
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"server {argv!r} exited with {proc.returncode}: {err[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {argv!r} did not answer on port {port}")
            time.sleep(0.05)
        yield proc
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    if proc.stderr:
        proc.stderr.close()


# -- wrk ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int  # completed responses
    seconds: float
    sent: int  # requests built by the script (answered or still in flight at the end)
    ok: int  # 2xx
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    return path


def wrk_version() -> str:
    out = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True).stdout
    return out.splitlines()[0].split(" Copyright")[0] if out else "unknown"


def run_wrk(
    url: str,
    *,
    script: Path,
    args: Sequence[str] = (),
    threads: int = 1,
    connections: int = 16,
    seconds: float = 10.0,
) -> WrkResult:
    cmd = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {out.stdout}\n{out.stderr}")
    d = json.loads(line.removeprefix("BENCH-RESULT "))
    return WrkResult(
        requests=d["requests"],
        seconds=d["duration_us"] / 1e6,
        sent=d["sent"],
        ok=d["ok"],
        non2xx=d["non2xx"],
        socket_errors=d["connect_errors"] + d["read_errors"] + d["write_errors"] + d["timeouts"],
        p50_ms=d["p50_us"] / 1000,
        p90_ms=d["p90_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
        max_ms=d["max_us"] / 1000,
    )


# -- machine ------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def uvicorn_stack() -> str:
    """What uvicorn's ``loop="auto"``/``http="auto"`` pick in this environment."""
    import importlib.util

    import uvicorn

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {uvicorn.__version__}, one process, loop {loop}, HTTP parser {http}"


def machine() -> str:
    return (
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"{wrk_version()}; load average {os.getloadavg()[0]:.1f} when the run started "
        "(other processes share the cores)"
    )


def python() -> str:
    return sys.executable


# -- open-loop load -----------------------------------------------------------------------------
#
# wrk is closed-loop: a connection sends its next request only when the previous one returned,
# so a slow server is offered less load and its stalls hide (coordinated omission). Here every
# request has a scheduled send time (start + i / rate); it is sent then on an idle keep-alive
# connection (a new one when all are busy, up to ``max_connections``; beyond that it waits for
# one, and the wait counts) and its latency runs from the *scheduled* time, so a
# stall of the server or of this client counts against every request that should have gone out.


@dataclass(frozen=True)
class OpenLoopResult:
    planned: int
    completed: int
    errors: int  # connection errors or responses other than expected_status
    seconds: float  # from the first scheduled send to the last response
    latencies_ms: tuple[float, ...]  # sorted, completed requests with the expected status
    statuses: dict[str, int]
    connections: int

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        k = min(len(self.latencies_ms) - 1, max(0, round(p / 100 * len(self.latencies_ms)) - 1))
        return self.latencies_ms[k]


async def _open_loop(
    host: str,
    port: int,
    raw_request: bytes,
    *,
    rate: float,
    seconds: float,
    expected_status: int,
    max_connections: int,
) -> OpenLoopResult:
    import asyncio

    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    opened = 0

    async def one(scheduled: float) -> None:
        nonlocal errors, opened
        try:
            if free.empty() and opened < max_connections:
                opened += 1
                reader, writer = await asyncio.open_connection(host, port)
            else:
                reader, writer = await free.get()
            writer.write(raw_request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            done = time.perf_counter()
            free.put_nowait((reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            errors += 1
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            return
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status == expected_status:
            latencies.append((done - scheduled) * 1000)
        else:
            errors += 1

    planned = int(rate * seconds)
    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(planned):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(scheduled)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    end = time.perf_counter()
    while not free.empty():
        free.get_nowait()[1].close()
    return OpenLoopResult(
        planned=planned,
        completed=len(latencies),
        errors=errors,
        seconds=end - start,
        latencies_ms=tuple(sorted(latencies)),
        statuses=statuses,
        connections=opened,
    )


def open_loop(
    url: str,
    *,
    headers: Mapping[str, str],
    rate: float = 1000.0,
    seconds: float = 10.0,
    expected_status: int = 200,
    max_connections: int = 64,
) -> OpenLoopResult:
    """GET ``url`` at a constant ``rate`` from a separate Python process (see above)."""
    spec = {
        "url": url,
        "headers": dict(headers),
        "rate": rate,
        "seconds": seconds,
        "expected_status": expected_status,
        "max_connections": max_connections,
    }
    out = subprocess.run(
        [python(), "-m", "bench._load", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    d = json.loads(out.stdout)
    d["latencies_ms"] = tuple(d["latencies_ms"])
    return OpenLoopResult(**d)


def _main(spec_json: str) -> None:
    import asyncio
    import dataclasses
    from urllib.parse import urlsplit

    spec = json.loads(spec_json)
    parts = urlsplit(spec["url"])
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in spec["headers"].items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    result = asyncio.run(
        _open_loop(
            parts.hostname or "127.0.0.1",
            parts.port or 80,
            raw,
            rate=spec["rate"],
            seconds=spec["seconds"],
            expected_status=spec["expected_status"],
            max_connections=spec["max_connections"],
        )
    )
    print(json.dumps(dataclasses.asdict(result)))


if __name__ == "__main__":
    _main(sys.argv[1])
