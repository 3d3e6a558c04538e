"""The peer for `bench/graphql.py`: PostGraphile v5 over views of Coop's own tables, and a
light HTTP load client to measure both (and a plain Starlette route) the same way.

PostGraphile is installed from npm into `bench/.postgraphile/` (ignored by git) when Node 20
or later is present; Node 20 lacks `Promise.withResolvers`, which PostGraphile 5 calls, so
a polyfill is preloaded with `NODE_OPTIONS=--require`. Without Node the comparison is
skipped and the bench says so.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).resolve().parent
PEER = HERE / ".postgraphile"
VIEWS = HERE / "postgraphile_views.sql"
POLYFILL = """// Node 20 lacks Promise.withResolvers (Node 22+), which grafast calls.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
"""

BIG = """query Big {
  %s: allPartners(condition: {kind: "network"}, orderBy: KEY_ASC, first: 20) {
    nodes {
      key name
      membershipsByNetwork(orderBy: [KEY_ASC, SLICE_ASC], first: 100) {
        nodes {
          key validFrom validTo
          partnerByMember {
            key name country
            partnerProgramsByPartner(orderBy: PROGRAM_ASC, first: 100) {
              nodes { programByProgram { key name validFrom validTo } }
            }
          }
        }
      }
    }
  }
}"""

SMALL = """query Small {
  %s: partnerByKey(key: "city-00004") {
    key name
    membershipsByMember(orderBy: [KEY_ASC, SLICE_ASC]) {
      nodes { key validFrom partnerByNetwork { key name } }
    }
  }
}"""


def node_major() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    try:
        return int(found.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None


def why_skipped() -> str | None:
    """None when PostGraphile can run here; else why the comparison is skipped."""
    major = node_major()
    if major is None:
        return "Node.js is not installed: the PostGraphile comparison is SKIPPED"
    if major < 20:
        return f"Node.js {major} is too old (20 or later): the PostGraphile comparison is SKIPPED"
    if shutil.which("npm") is None:
        return "npm is not installed: the PostGraphile comparison is SKIPPED"
    return None


def install() -> Path:
    """PostGraphile 5 under bench/.postgraphile (once), and its command."""
    command = PEER / "node_modules" / ".bin" / "postgraphile"
    if not command.exists():
        PEER.mkdir(exist_ok=True)
        (PEER / "package.json").write_text('{"private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "postgraphile@5"],
            cwd=PEER,
            check=True,
        )
    (PEER / "withresolvers.cjs").write_text(POLYFILL)
    return command


async def create_views(engine: AsyncEngine) -> None:
    """The `pgl` schema: plain views of the current rows, with smart comments for the
    relations, and the index PostGraphile's plan for a partner's programs needs."""
    async with engine.begin() as connection:
        driver = await connection.get_raw_connection()
        await driver.driver_connection.execute(VIEWS.read_text())  # type: ignore[union-attr]


@asynccontextmanager
async def postgraphile(database_url: str, port: int) -> AsyncIterator[str]:
    """PostGraphile serving `pgl` on `port`; yields its GraphQL URL once it answers."""
    command = install()
    env = {
        **os.environ,
        "NODE_ENV": "production",
        "NODE_OPTIONS": f"--require {PEER / 'withresolvers.cjs'}",
    }
    url = database_url.replace("postgresql+asyncpg://", "postgres://").replace(
        "postgresql://", "postgres://"
    )
    arguments = ["-P", "postgraphile/presets/amber", "-c", url, "-s", "pgl"]
    process = subprocess.Popen(  # noqa: ASYNC220 (started once, then only polled)
        [str(command), *arguments, "--port", str(port), "-n", "127.0.0.1"],
        cwd=PEER,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    endpoint = f"http://127.0.0.1:{port}/graphql"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                if process.poll() is not None:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"PostGraphile exited: {error[-2000:]}")
                try:
                    answer = await http.post(endpoint, json={"query": "{ __typename }"})
                    if answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(20)
        if process.stderr:
            process.stderr.close()


# --- a light HTTP/1.1 client: keep-alive connections, no parsing beyond the length --------


async def _connection(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


def request_bytes(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value:
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    parts = []
    while True:
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            await reader.readline()
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()


async def load(
    url: str, make: Callable[[int], bytes], clients: int, seconds: float
) -> tuple[float, list[float], int]:
    """`clients` keep-alive connections asking in a loop for `seconds`; each request's body
    from `make(n)`. Returns requests per second, the latencies, and non-200 answers."""
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode()
    latencies: list[float] = []
    failures = 0
    counter = iter(range(10**9))
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal failures
        reader, writer = await _connection(host, port)
        try:
            while time.perf_counter() < stop:
                request = request_bytes(host, path, make(next(counter)))
                started = time.perf_counter()
                try:
                    status, _ = await _exchange(reader, writer, request)
                except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
                    # The server closed the connection: count it, and open another.
                    failures += 1
                    writer.close()
                    reader, writer = await _connection(host, port)
                    continue
                latencies.append(time.perf_counter() - started)
                failures += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies, failures


async def ask(url: str, body: bytes) -> bytes:
    parsed = httpx.URL(url)
    reader, writer = await _connection(parsed.host, parsed.port or 80)
    try:
        _, answer = await _exchange(
            reader, writer, request_bytes(parsed.host, parsed.raw_path.decode(), body)
        )
        return answer
    finally:
        writer.close()
