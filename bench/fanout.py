"""Subscription fan-out: many `events(after:)` subscribers on one instance, a steady writer.

Run by `make bench`, never by the tests. On each engine (SQLite in a file in a temporary
directory; PostgreSQL in a fresh database beside COOP_BENCH_POSTGRES_URL's, dropped after),
for each subscriber count (100, then 1,000), the subscribers spread over `--operations`
distinct documents (10: each selects the same fields under a different alias, so the
server can share one execution per document), or with `--distinct-variables` each with
its own `types` filter (a different set of event types, every one including the appended
PartnerRegistered), so that no two can share:

1. one instance: the app from `service.app.create_app` under uvicorn on a free loopback
   port, in this process;
2. the subscribers: graphql-transport-ws clients (`--client bare`, the default: bare asyncio
   protocols, bench/bare_client.py, which cost the measuring process far less per message;
   `--client websockets`: the `websockets` library), each subscribing to
   `events(after: <head>)`, run in `--client-processes` separate processes (spawned, on
   uvloop; 0 runs them in the server's own event loop instead). Appends start only once
   the server's change feed counts every subscriber as following;
3. the writer: `EventStore.append` in this process, `--rate` events a second for
   `--seconds` seconds (one PartnerRegistered per append, projections folding in the
   append's transaction as in the service; `--rate 0`: as fast as it can, to compare
   append rates with and without subscribers), each commit timestamped by an `on_commit`
   listener on the store. A writer that falls behind its schedule stops after
   `--max-seconds`, and the report says how many appends it made;
4. each subscriber timestamps each message as it arrives; the time from commit to
   delivery is reported over every (subscriber, event) pair: median, 99th percentile and
   maximum, and per event the time until the last subscriber had it. Every subscriber must
   have received every appended position exactly once and in order; the report counts any
   missing, duplicated or out-of-order delivery and any error the server sent;
5. each subscriber then sends `complete` and closes its socket; two seconds later the
   change feed should have no follower left, and the report says how many it still has.

The report also gives the append latency, the SQL statements the instance ran per
appended event, and the CPU share of the server's process and of the client processes.
Clocks: commit and arrival are both `time.time()` on the same machine.

    .venv/bin/python bench/fanout.py [--engines sqlite,postgres] [--subscribers 100,1000]
        [--rate 20] [--seconds 10] [--max-seconds 60] [--client-processes 1]
        [--operations 10 | --distinct-variables]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/fanout.py`, this file's folder comes first on sys.path, where
# bench/graphql.py would shadow the `graphql` package Strawberry is built on: the
# repository root takes its place, for `bench.support`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import logging
import multiprocessing
import resource
import socket
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any, Protocol

import uvicorn
import uvloop
import websockets
from sqlalchemy import event

from bench.bare_client import BareSubscriber
from bench.support import database, machine, quantile
from domain.events import PartnerRegistered, cooperation_events
from events.database import create_engine
from events.model import AppendResult
from service.app import create_app
from service.migrate import upgrade
from service.services import build_services
from service.settings import Settings

FEED = """subscription($after: Int, $types: [String!]) {
  events(after: $after, types: $types) { position streamId type recordedAt data op%d: type }
}"""
OTHER_TYPES = sorted(set(cooperation_events.names()) - {"PartnerRegistered"})
CONNECTING = 100  # handshakes in flight at once, per client process
SUBSCRIBE_SECONDS = 180  # for every subscriber to be following
IDLE_SECONDS = 120  # the longest a subscriber waits for its next message
RESULT_SECONDS = 300  # for the client processes to hand back what they saw
LINGER_SECONDS = 2.0  # after the last subscriber left, before counting who still follows


def raise_open_files(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


# --- the subscribers ----------------------------------------------------------------------


class Shared(Protocol):
    """A number in shared memory (a `multiprocessing.Value`)."""

    value: int


@dataclass
class Seen:
    """What one subscriber received: positions and arrival times, and how it ended."""

    positions: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    error: str | None = None


def operation(number: int, operations: int, distinct: bool) -> tuple[str, list[str] | None]:
    """Subscriber `number`'s document and `types` filter."""
    if not distinct:
        return FEED % (number % operations), None
    others = [name for bit, name in enumerate(OTHER_TYPES) if number >> bit & 1]
    return FEED % 0, ["PartnerRegistered", *others]


@dataclass
class Subscribing:
    """What every subscriber of one client process shares."""

    url: str
    after: int
    last: Shared
    gate: asyncio.Semaphore  # how many handshakes are in flight at once
    subscribed: asyncio.Queue[int]  # told 1 for each subscribe sent, 0 for each failure


async def subscriber(line: Subscribing, asks: tuple[str, list[str] | None]) -> Seen:
    url, after, last, gate, subscribed = (
        line.url,
        line.after,
        line.last,
        line.gate,
        line.subscribed,
    )
    seen = Seen()
    announced = False
    try:
        async with gate:
            socket_ = await websockets.connect(
                url,
                subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
                ping_interval=None,
                open_timeout=60,
                max_size=None,
            )
        async with socket_:
            await socket_.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await asyncio.wait_for(socket_.recv(), 60))
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"no connection_ack: {ack}")
            query, types = asks
            payload = {"query": query, "variables": {"after": after, "types": types}}
            await socket_.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            subscribed.put_nowait(1)
            announced = True
            heard = time.monotonic()
            while not seen.positions or seen.positions[-1] < last.value:
                try:  # in slices, to notice when the writer stopped early and `last` moved
                    raw = await asyncio.wait_for(socket_.recv(), 1.0)
                except TimeoutError:
                    if time.monotonic() - heard > IDLE_SECONDS:
                        raise
                    continue
                arrived = time.time()
                heard = time.monotonic()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        raise RuntimeError(f"error in next: {payload['errors']}")
                    seen.positions.append(payload["data"]["events"]["position"])
                    seen.arrivals.append(arrived)
                elif kind == "ping":
                    await socket_.send(json.dumps({"type": "pong"}))
                elif kind in ("error", "complete"):
                    raise RuntimeError(f"the server sent {kind}: {message}")
            await socket_.send(json.dumps({"id": "1", "type": "complete"}))
    except Exception as error:
        seen.error = f"{type(error).__name__}: {error}"
        if not announced:  # never leave the count waiting on a failed subscriber
            subscribed.put_nowait(0)
    return seen


async def bare_subscriber(line: Subscribing, asks: tuple[str, list[str] | None]) -> Seen:
    """As `subscriber`, on a bare protocol (bench/bare_client.py) that costs the measuring
    process a fraction of what the `websockets` library does per message."""
    last, gate, subscribed = line.last, line.gate, line.subscribed
    host, port = line.url.removeprefix("ws://").split("/")[0].split(":")
    query, types = asks
    payload = {"query": query, "variables": {"after": line.after, "types": types}}
    loop = asyncio.get_running_loop()
    try:
        async with gate:
            _, client = await loop.create_connection(
                lambda: BareSubscriber(host, int(port), payload), host, int(port)
            )
            await asyncio.wait_for(asyncio.shield(client.acked), 60)
    except Exception as error:
        subscribed.put_nowait(0)
        return Seen(error=f"{type(error).__name__}: {error}")
    subscribed.put_nowait(1)
    received = client.received
    heard, count = time.monotonic(), 0
    while not client.done.done():
        client.until = last.value  # moves if the writer stopped early
        client.check_done()
        await asyncio.wait([client.done], timeout=1.0)
        if len(received.positions) != count:
            heard, count = time.monotonic(), len(received.positions)
        elif time.monotonic() - heard > IDLE_SECONDS:
            client.fail(f"nothing received for {IDLE_SECONDS} s")
    return Seen(received.positions, received.arrivals, received.error)


async def subscribers(
    url: str,
    numbers: range,
    after: int,
    last: Shared,
    on_subscribed: Callable[[int], object],
    kind: tuple[int, bool, str],
) -> list[Seen]:
    """Subscribers `numbers`; `on_subscribed(n)` is told each time more have subscribed."""
    gate = asyncio.Semaphore(CONNECTING)
    subscribed: asyncio.Queue[int] = asyncio.Queue()
    count = len(numbers)
    operations, distinct, client = kind
    one = bare_subscriber if client == "bare" else subscriber
    line = Subscribing(url, after, last, gate, subscribed)
    tasks = [
        asyncio.create_task(one(line, operation(number, operations, distinct)))
        for number in numbers
    ]
    done = 0
    while done < count:
        done += 1
        await subscribed.get()
        if done % CONNECTING == 0 or done == count:
            on_subscribed(done)
    return list(await asyncio.gather(*tasks))


def client_process(
    url: str,
    numbers: range,
    after: int,
    last: Shared,
    out: Queue[Any],
    kind: tuple[int, bool, str],
) -> None:
    """A spawned process: subscribers `numbers`; reports progress, then what each saw and
    the CPU time it used."""
    raise_open_files(len(numbers) + 256)

    async def main() -> list[Seen]:
        return await subscribers(
            url, numbers, after, last, lambda n: out.put(("subscribed", n)), kind
        )

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            seen = runner.run(main())
        body = [(s.positions, s.arrivals, s.error) for s in seen]
        out.put(("seen", (body, time.process_time())))
    except BaseException as error:
        out.put(("failed", f"{type(error).__name__}: {error}"))
        raise


# --- the instance and the writer ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Run:
    engine: str
    subscribers: int
    client_processes: int
    client: str  # the subscribers' WebSocket client
    planned: int  # appends planned (rate x seconds)
    events: int  # appends made before the writer's deadline
    seconds: float
    latencies: list[float]  # every (subscriber, event) delivery, commit to arrival
    last_arrivals: list[float]  # per event, commit to its arrival at the last subscriber
    appends: list[float]  # how long each append took
    statements: int  # SQL statements the instance ran while the writer wrote
    cpu_share: float  # this process's CPU time (server, writer) over the appends and drain
    client_cpu_share: float  # the client processes' CPU time over their life
    complete: int  # subscribers that got every event exactly once, in order
    problems: list[str]
    subscribe_seconds: float
    groups: int  # groups sharing executions while the writer wrote
    lingering: int  # followers still reading the log after every subscriber had left
    task_errors: Counter[str]  # what Strawberry logged as "Exception in worker task"


class CountingHandler(logging.Handler):
    """Counts log records by their exception, instead of printing a traceback for each."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        what = f"{type(error).__name__}: {error}" if error else "no exception"
        self.seen[f"{record.getMessage()} ({what})"] += 1


def check(seen: Sequence[Seen], expected: list[int]) -> tuple[int, list[str]]:
    complete, problems = 0, []
    for n, s in enumerate(seen):
        if s.positions == expected and s.error is None:
            complete += 1
            continue
        missing = len(set(expected) - set(s.positions))
        duplicated = len(s.positions) - len(set(s.positions))
        disordered = sum(1 for a, b in zip(s.positions, s.positions[1:], strict=False) if b <= a)
        problems.append(
            f"subscriber {n}: {len(s.positions)} received, {missing} missing,"
            f" {duplicated} duplicated, {disordered} out of order; error {s.error}"
        )
    return complete, problems


async def fan_out(engine: str, url: str, count: int, args: argparse.Namespace) -> Run:
    migrating = create_engine(url)
    try:
        await upgrade(migrating)
    finally:
        await migrating.dispose()
    services = build_services(Settings(database_url=url))
    commits: dict[int, float] = {}

    def committed(result: AppendResult) -> None:
        now = time.time()
        for position in range(result.first_position, result.last_position + 1):
            commits[position] = now

    services.store.on_commit(committed)
    task_errors = CountingHandler()
    task_logger = logging.getLogger("strawberry.ws.task")
    task_logger.addHandler(task_errors)
    task_logger.propagate = False
    statements = 0

    def count_statement(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    port = free_port()
    app = create_app(services.settings, services)
    fanout = app.state.fanout

    def grouped() -> int:
        return sum(len(group.members) for group in fanout.groups.values())

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        backlog=4096,
        ws_per_message_deflate=False,  # as `coop serve` runs
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    ws_url = f"ws://127.0.0.1:{port}/graphql"
    flat_out = args.rate == 0
    planned = 10**9 if flat_out else round(args.rate * args.seconds)
    after = (await services.store.head()).position
    last: Shared = multiprocessing.get_context("spawn").Value("q", after + planned, lock=False)
    try:
        started = time.perf_counter()
        clients = await start_clients(ws_url, count, after, last, args)
        deadline = time.monotonic() + SUBSCRIBE_SECONDS
        while grouped() < count:
            if clients.ended():
                early, _cpu = await clients.finish()  # raises if a client process failed
                errors = sorted({s.error for s in early if s.error})
                raise RuntimeError(f"subscribers ended before all were following: {errors[:3]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {grouped()} of {count} subscribers were following"
                    f" after {SUBSCRIBE_SECONDS} s"
                )
            await asyncio.sleep(0.05)
        subscribe_seconds = time.perf_counter() - started
        groups = len(fanout.groups)
        event.listen(services.engine.sync_engine, "before_cursor_execute", count_statement)
        cpu = time.process_time()
        appends: list[float] = []
        first = time.perf_counter()
        for n in range(planned):
            if flat_out and time.perf_counter() - first > args.seconds:
                break
            if time.perf_counter() - first > args.max_seconds:
                break  # the writer has fallen this far behind: stop, and say so
            delay = 0 if flat_out else first + n / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"fanout-{uuid.uuid4().hex[:12]}"
            began = time.perf_counter()
            await services.store.append(
                f"partner:{key}", [PartnerRegistered(key=key, name=f"City {n}", kind="city")]
            )
            appends.append(time.perf_counter() - began)
        seconds = time.perf_counter() - first
        last.value = (await services.store.head()).position
        seen, client_cpu = await clients.finish()
        window = time.perf_counter() - first
        cpu = time.process_time() - cpu
        event.remove(services.engine.sync_engine, "before_cursor_execute", count_statement)
        client_seconds = time.perf_counter() - started
        # Every subscriber has sent `complete` and closed its socket: none should be left
        # following the log.
        await asyncio.sleep(LINGER_SECONDS)
        lingering = len(fanout.members) + services.feed.followers
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 60)
        task_logger.removeHandler(task_errors)
        task_logger.propagate = True
    expected = list(range(after + 1, last.value + 1))
    complete, problems = check(seen, expected)
    latencies: list[float] = []
    slowest: dict[int, float] = {}
    for s in seen:
        for position, arrived in zip(s.positions, s.arrivals, strict=True):
            if position in commits:
                latency = arrived - commits[position]
                latencies.append(latency)
                slowest[position] = max(slowest.get(position, latency), latency)
    return Run(
        engine=engine,
        subscribers=count,
        client_processes=args.client_processes,
        client=args.client,
        planned=len(expected) if flat_out else planned,
        events=len(expected),
        seconds=seconds,
        latencies=latencies,
        last_arrivals=list(slowest.values()),
        appends=appends,
        statements=statements,
        cpu_share=cpu / window,
        client_cpu_share=client_cpu / client_seconds,
        complete=complete,
        problems=problems,
        subscribe_seconds=subscribe_seconds,
        groups=groups,
        lingering=lingering,
        task_errors=task_errors.seen,
    )


@dataclass
class Clients:
    """The running subscribers: `finish()` waits for them all and returns what each saw and
    the CPU time their processes used; `ended()` tells whether any of them already stopped."""

    finish: Callable[[], Awaitable[tuple[list[Seen], float]]]
    ended: Callable[[], bool]


def kind(args: argparse.Namespace) -> tuple[int, bool, str]:
    return args.operations, args.distinct_variables, args.client


async def start_clients(
    url: str, count: int, after: int, last: Shared, args: argparse.Namespace
) -> Clients:
    if args.client_processes == 0:
        task = asyncio.create_task(
            subscribers(url, range(count), after, last, lambda _n: None, kind(args))
        )

        async def finish_here() -> tuple[list[Seen], float]:
            return await asyncio.wait_for(task, RESULT_SECONDS), 0.0

        return Clients(finish_here, task.done)
    context = multiprocessing.get_context("spawn")
    queue: Queue[Any] = context.Queue()
    shares = [count // args.client_processes] * args.client_processes
    shares[0] += count - sum(shares)
    starts = [sum(shares[:n]) for n in range(len(shares))]
    processes = [
        context.Process(
            target=client_process,
            args=(url, range(start, start + share), after, last, queue, kind(args)),
            daemon=True,
        )
        for start, share in zip(starts, shares, strict=True)
        if share
    ]
    for process in processes:
        process.start()

    async def finish_there() -> tuple[list[Seen], float]:
        seen: list[Seen] = []
        reported, cpu = 0, 0.0
        try:
            while reported < len(processes):
                kind, body = await asyncio.to_thread(queue.get, True, RESULT_SECONDS)
                if kind == "seen":
                    reported += 1
                    seen += [Seen(p, a, e) for p, a, e in body[0]]
                    cpu += body[1]
                elif kind == "failed":
                    raise RuntimeError(f"a client process failed: {body}")
        finally:
            for process in processes:
                process.join(10)
                if process.is_alive():
                    process.terminate()
        return seen, cpu

    return Clients(finish_there, lambda: any(p.exitcode is not None for p in processes))


# --- databases, machine, report -----------------------------------------------------------


def row(r: Run) -> str:
    ms = [v * 1000 for v in r.latencies]
    last = [v * 1000 for v in r.last_arrivals]
    appends = [v * 1000 for v in r.appends]
    where = "in the server's process" if r.client_processes == 0 else f"{r.client_processes}"
    clients = f"{where} ({r.client})"
    clients_cpu = "-" if r.client_processes == 0 else f"{r.client_cpu_share:.0%}"
    return (
        f"| {r.engine} | {r.subscribers:,} | {r.groups:,} | {clients} | {r.events} of"
        f" {r.planned} in {r.seconds:.1f} s ({r.events / r.seconds:,.1f}/s)"
        f" | {statistics.median(ms) if ms else float('nan'):,.1f} | {quantile(ms, 99):,.1f}"
        f" | {max(ms) if ms else float('nan'):,.0f}"
        f" | {statistics.median(last) if last else float('nan'):,.1f} | {quantile(last, 99):,.1f}"
        f" | {statistics.median(appends):,.1f} / {quantile(appends, 99):,.1f}"
        f" | {r.statements / max(r.events, 1):,.0f} | {r.cpu_share:.0%} | {clients_cpu}"
        f" | {r.complete:,}/{r.subscribers:,} | {r.lingering:,} |"
    )


HEADER = [
    "| engine | subscribers | groups | client processes | appends | delivery p50 ms | p99 ms"
    " | max ms | last subscriber p50 ms | p99 ms | append p50 / p99 ms | SQL statements per event"
    " | server CPU | client CPU | every event once, in order | still following after all left |",
    "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


async def run(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    counts = [int(n) for n in args.subscribers.split(",")]
    raise_open_files(2 * max(counts) + 512)
    print(f"machine: {await machine(engines)}")
    print(
        f"{args.rate:g} appends/s for {args.seconds:g} s; subscribers in"
        f" {args.client_processes or 'the server'} process(es)",
        flush=True,
    )
    runs: list[Run] = []
    for engine in engines:
        for count in counts:
            async with database(engine, label="fanout") as url:
                result = await fan_out(engine, url, count, args)
            runs.append(result)
            print(
                f"{engine}, {count:,} subscribers: all following after"
                f" {result.subscribe_seconds:.1f} s; {result.lingering} still following the log"
                f" {LINGER_SECONDS:g} s after every subscriber completed and disconnected",
                flush=True,
            )
            print(row(result), flush=True)
            for logged, times in result.task_errors.items():
                print(f"  the server logged {times} x {logged}", flush=True)
            for problem in result.problems[:10]:
                print(f"  PROBLEM {problem}", flush=True)
            if len(result.problems) > 10:
                print(f"  ... and {len(result.problems) - 10} more", flush=True)
    print()
    for line in HEADER + [row(r) for r in runs]:
        print(line)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--subscribers", default="100,1000", help="comma-separated counts")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="appends per second (0: as fast as it can)"
    )
    parser.add_argument(
        "--operations", type=int, default=10, help="distinct documents the subscribers share"
    )
    parser.add_argument(
        "--distinct-variables",
        action="store_true",
        help="every subscriber its own `types` filter: no sharing possible",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="stop the writer after this long even if it has not made every append",
    )
    parser.add_argument(
        "--client",
        choices=["bare", "websockets"],
        default="bare",
        help="the subscribers' WebSocket client: a bare asyncio protocol, or the websockets"
        " library (tens of microseconds more per message, in the measuring process)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="processes the subscribers run in (0: in the server's own event loop)",
    )
    args = parser.parse_args()
    unknown = set(args.engines.split(",")) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}; use sqlite and/or postgres")
    if args.rate and not 0 < args.rate * args.seconds <= 10_000:
        parser.error("--rate times --seconds must be between 1 and 10,000 appends")
    if args.distinct_variables and max(int(n) for n in args.subscribers.split(",")) > 2**26:
        parser.error("--distinct-variables gives at most 2**26 distinct filters")
    return args


def main() -> None:
    # uvloop, as `coop serve` runs (uvicorn's default loop where it is installed).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run(arguments()))


if __name__ == "__main__":
    main()
