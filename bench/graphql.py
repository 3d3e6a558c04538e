"""The nested four-level GraphQL query through HTTP against uvicorn, and the SQL floor under it.

Run by `make bench`, never by the tests. On each engine (SQLite in a file in a temporary
directory; PostgreSQL in a fresh database beside COOP_BENCH_POSTGRES_URL's, dropped after)
it

1. writes a synthetic, hash-chained history (300 networks, 3,000 cities, about 10,000
   memberships of which a third ended and some restarted, 1,500 programs with partners,
   about 6,000 activities held under them) through `EventStore.import_events` in batches
   of 1,000 with the built-in projections folding in the same transaction;
2. serves it with uvicorn on a free loopback port in a separate process (spawned), the app
   built by `service.app.create_app`, with a SQLAlchemy `before_cursor_execute` listener on
   the server's engine counting statements into shared memory;
3. asks the nested query (networks -> members -> programs -> activities) over HTTP with
   httpx, current and as of a day, each network page in turn: first once per page,
   sequentially, to count statements (and the server's time in them) and objects per
   request, and to check the answer against the floor's rows; then
   `--sequential-requests` requests one at a time and `--requests` at `--concurrency`;
4. answers the same pages with ONE hand-written SQL query (CTEs and window functions)
   through the same driver (SQLAlchemy async Core, aiosqlite or asyncpg), in this process,
   at the same concurrencies: the floor. The API's median is reported as a ratio to the
   floor's at the same concurrency.

The client (httpx) runs in this process and the server in its own, so on a 2-core machine
each has about one core.

    .venv/bin/python bench/graphql.py [--engines sqlite,postgres] [--requests N]
        [--sequential-requests N] [--concurrency N] [--cities N] [--networks N]
        [--as-of YYYY-MM-DD]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/graphql.py`, this file's folder comes first on sys.path, where
# bench/graphql.py would shadow the `graphql` package Strawberry is built on: the
# repository root takes its place, for `bench.support`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import multiprocessing
import random
import socket
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import httpx
import msgspec
from sqlalchemy import Date, bindparam, event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import TextClause

from bench import postgraphile
from bench.support import PLAIN, chained, database, machine
from domain import events as ev
from domain.events import DomainEvent
from domain.vocabulary import Field
from events.database import create_engine
from events.dates import PartialDate
from events.model import RecordedEvent
from schema.pagination import encode_cursor
from service.migrate import upgrade
from service.services import build_services
from service.settings import Settings

IMPORT_BATCH = 1000
PAGES = {"networks": 10, "members": 25, "programs": 10, "activities": 10}
FIELDS = [field.value for field in Field]
COUNTRIES = ["JP", "CN", "MM", "GB", "US", "FR", "BR", "IN", "ZA", "DE", "MX", "ID", "KE", "AU"]
REGIONS = ["Asia", "Europe", "North America", "South America", "Africa", "Oceania"]

NESTED = """query Nested($after: String, $asOf: Date, $networks: Int, $members: Int,
    $programs: Int, $activities: Int) {
  partners(kind: NETWORK, first: $networks, after: $after, asOf: $asOf) {
    nodes {
      key name
      members(first: $members) {
        nodes {
          membershipId since until
          member {
            key name country
            programs(first: $programs) {
              nodes {
                key name since until
                activities(first: $activities) { nodes { key name on } }
              }
            }
          }
        }
      }
    }
  }
}"""


# --- the synthetic history ----------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    networks: int
    cities: int
    seed: int = 7


def history(shape: Shape) -> Iterator[object]:
    """Domain events in log order: partners, memberships (some ended, some restarted),
    programs with partners joining, activities held under the programs, some concluded."""
    rng = random.Random(shape.seed)

    def partial(year: int) -> PartialDate:
        draw = rng.random()
        if draw < 0.35:
            return PartialDate(year)
        if draw < 0.65:
            return PartialDate(year, rng.randint(1, 12))
        return PartialDate(year, rng.randint(1, 12), rng.randint(1, 28))

    networks = [f"net-{n:03d}" for n in range(shape.networks)]
    cities = [f"city-{n:05d}" for n in range(shape.cities)]
    for n, key in enumerate(networks):
        yield ev.PartnerRegistered(key=key, name=f"Network {n}", kind="network")
    for n, key in enumerate(cities):
        yield ev.PartnerRegistered(
            key=key,
            name=f"City {n}",
            kind="city",
            country=COUNTRIES[n % len(COUNTRIES)],
            region=REGIONS[n % len(REGIONS)],
        )
    # A few large networks and a long tail (about 12 to 190 memberships each).
    weights = [1 / (rank + 20) for rank in range(len(networks))]
    for city in cities:
        joined: set[str] = set()
        for _ in range(rng.randint(1, 6)):
            network = rng.choices(networks, weights)[0]
            if network in joined:
                continue
            joined.add(network)
            since = partial(rng.randint(1995, 2020))
            assert since.year is not None
            yield ev.MembershipStarted(
                membership_id=f"{city}@{network}#1",
                member=city,
                network=network,
                since=since,
                notes=[],
            )
            end_year = since.year + rng.randint(1, 10)
            if rng.random() < 0.35 and end_year <= 2024:
                yield ev.MembershipEnded(
                    membership_id=f"{city}@{network}#1",
                    member=city,
                    network=network,
                    until=partial(end_year),
                )
                again = end_year + rng.randint(1, 3)
                if rng.random() < 0.3 and again <= 2024:
                    yield ev.MembershipStarted(
                        membership_id=f"{city}@{network}#2",
                        member=city,
                        network=network,
                        since=partial(again),
                        notes=["rejoined"],
                    )
    activity = 0
    for n in range(1, shape.cities // 2 + 1):
        key = f"program-{n:05d}"
        lead = rng.choice(cities)
        start = rng.randint(2000, 2022)
        yield ev.ProgramLaunched(
            key=key,
            name=f"Program {n}",
            field=rng.choice(FIELDS),
            kind="technology_exchange",
            topics=["recycling"],
            lead=lead,
            since=partial(start),
        )
        partners = rng.sample([c for c in rng.sample(cities, 6) if c != lead], rng.randint(1, 4))
        for partner in partners:
            yield ev.PartnerJoinedProgram(
                participation_id=f"{key}/{partner}#1",
                program=key,
                partner=partner,
                since=partial(min(start + rng.randint(0, 2), 2024)),
            )
        for _ in range(rng.randint(0, 8)):
            activity += 1
            yield ev.ActivityRecorded(
                key=f"activity-{activity:06d}",
                name=f"Workshop {activity}",
                kind="workshop",
                on=partial(min(start + rng.randint(0, 10), 2024)),
                participants=sorted([lead, *partners[:2]]),
                representatives=[],
                program=key,
            )
        end = start + rng.randint(3, 12)
        if rng.random() < 0.25 and end <= 2024:
            yield ev.ProgramConcluded(key=key, until=partial(end))


def recorded(domain: Iterator[DomainEvent]) -> list[RecordedEvent]:
    """The domain events as a valid hash-chained log, as `EventStore.append` would write it."""
    return list(chained((event, PLAIN) for event in domain))


@dataclass(frozen=True)
class Built:
    events: int
    seconds: float
    counts: dict[str, int]


async def build(url: str, log: Sequence[RecordedEvent]) -> Built:
    """Migrate, then import the log with the built-in projections folding as it goes."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    services = build_services(Settings(database_url=url))
    await services.start()
    try:
        started = time.perf_counter()
        for first in range(0, len(log), IMPORT_BATCH):
            await services.store.import_events(log[first : first + IMPORT_BATCH])
        seconds = time.perf_counter() - started
        counts: dict[str, int] = {}
        async with services.engine.begin() as connection:
            if services.engine.dialect.name == "postgresql":
                await connection.exec_driver_sql("ANALYZE")
            for table in ("partners", "memberships", "programs", "program_partners", "activities"):
                query = f"SELECT count(*) FROM {table} WHERE record_to IS NULL"
                counts[table] = int((await connection.exec_driver_sql(query)).scalar_one())
        return Built(len(log), seconds, counts)
    finally:
        await services.close()


# --- the server, in its own process -------------------------------------------------------


class Shared(Protocol):
    """A number in shared memory (a `multiprocessing.Value`)."""

    value: Any


@dataclass(frozen=True)
class Meter:
    """What the server process's engine did: statements run, seconds spent in them."""

    statements: Shared
    seconds: Shared
    head_reads: Shared  # of the statements, those reading the log's head


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(url: str, port: int, meter: Meter) -> None:
    """The child process: create_app on `url` under uvicorn, metering SQL statements, with
    a plain Starlette JSON route beside it (`/plain`) as the floor of a request's cost."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from service.app import create_app

    async def plain(_request: Request) -> JSONResponse:
        return JSONResponse({"data": {"partner": {"key": "city-00004", "name": "City 4"}}})

    # The big query asks for up to 20 x 100 x 100 objects, over the default cost budget.
    services = build_services(Settings(database_url=url, max_query_cost=1_000_000))

    def before(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        meter.statements.value += 1
        meter.head_reads.value += "FROM events" in statement
        connection.info["bench_started"] = time.perf_counter()

    def after(connection: Any, *_args: Any) -> None:
        meter.seconds.value += time.perf_counter() - connection.info.pop("bench_started")

    event.listen(services.engine.sync_engine, "before_cursor_execute", before)
    event.listen(services.engine.sync_engine, "after_cursor_execute", after)
    app = create_app(services.settings, services)
    app.router.routes.append(Route("/plain", plain, methods=["GET", "POST"]))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False
    )
    uvicorn.Server(config).run()


@asynccontextmanager
async def server_process(url: str) -> AsyncIterator[tuple[str, Meter]]:
    context = multiprocessing.get_context("spawn")
    meter = Meter(
        context.Value("q", 0, lock=False),
        context.Value("d", 0.0, lock=False),
        context.Value("q", 0, lock=False),
    )
    port = free_port()
    process = context.Process(target=serve, args=(url, port, meter), daemon=True)
    process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(600):
                if not process.is_alive():
                    raise RuntimeError(f"the server process exited with {process.exitcode}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the server did not answer /healthz within 30 s")
        yield base, meter
    finally:
        process.terminate()
        process.join(15)
        if process.is_alive():
            process.kill()
            process.join()


# --- the floor: one hand-written SQL query -------------------------------------------------


def floor_query(as_of: bool) -> TextClause:
    """The same rows as the nested query, flattened: one row per network, membership,
    program and activity path (left joins keep the empty branches)."""

    def basis(t: str) -> str:
        held = f" AND {t}.valid_from_lo <= :as_of AND {t}.valid_to_hi >= :as_of" if as_of else ""
        return f"{t}.record_to IS NULL{held}"

    # A partner without a day is the version with no end; on a day, the one that may hold.
    partner = basis("{t}") if as_of else basis("{t}") + " AND {t}.valid_to IS NULL"
    sql = f"""
WITH nets AS (
  SELECT p.key, p.name FROM partners p
  WHERE p.kind = 'network' AND {partner.format(t="p")} AND p.key > :after
  ORDER BY p.key, p.slice LIMIT :networks
), mem AS (
  SELECT * FROM (
    SELECT m.network, m.key, m.slice, m.valid_from, m.valid_to, m.member,
           row_number() OVER (PARTITION BY m.network ORDER BY m.key, m.slice) AS n
    FROM memberships m WHERE m.network IN (SELECT key FROM nets) AND {basis("m")}
  ) ranked WHERE n <= :members
), taking_part AS (
  SELECT pp.partner AS member, pp.program FROM program_partners pp
  WHERE pp.partner IN (SELECT member FROM mem) AND {basis("pp")}
  UNION
  SELECT pr.lead, pr.key FROM programs pr
  WHERE pr.lead IN (SELECT member FROM mem) AND {basis("pr")}
), progs AS (
  SELECT * FROM (
    SELECT t.member, pr.key, pr.name, pr.valid_from, pr.valid_to,
           row_number() OVER (PARTITION BY t.member ORDER BY pr.key) AS n
    FROM taking_part t JOIN programs pr ON pr.key = t.program AND {basis("pr")}
  ) ranked WHERE n <= :programs
), paths AS (
  SELECT nets.key AS network, nets.name AS network_name,
         mem.key AS membership, mem.slice AS membership_slice,
         mem.valid_from AS since, mem.valid_to AS until,
         c.key AS member, c.name AS member_name, c.country,
         progs.key AS program, progs.name AS program_name,
         progs.valid_from AS program_since, progs.valid_to AS program_until,
         a.key AS activity, a.slice AS activity_slice, a.name AS activity_name,
         a.valid_from AS activity_on,
         row_number() OVER (
           PARTITION BY nets.key, mem.key, progs.key ORDER BY a.key, a.slice
         ) AS n
  FROM nets
  LEFT JOIN mem ON mem.network = nets.key
  LEFT JOIN partners c ON c.key = mem.member AND {partner.format(t="c")}
  LEFT JOIN progs ON progs.member = mem.member
  LEFT JOIN activities a ON a.program = progs.key AND {basis("a")}
)
SELECT * FROM paths WHERE n <= :activities
ORDER BY network, membership, membership_slice, program, activity, activity_slice"""
    query = text(sql)
    if as_of:
        query = query.bindparams(bindparam("as_of", type_=Date))
    return query


def floor_options(engine_name: str) -> dict[str, Any]:
    """On PostgreSQL, plan the floor for its actual parameters every time. asyncpg prepares
    statements, and after five executions PostgreSQL may switch to a generic plan, which
    for this query (keyset and day unknown) is several times slower: no floor."""
    if engine_name != "postgres":
        return {}
    return {"connect_args": {"server_settings": {"plan_cache_mode": "force_custom_plan"}}}


Tree = list[tuple[str, list[tuple[str, str, list[tuple[str, list[str]]]]]]]


def tree_of_rows(rows: Sequence[Any]) -> Tree:
    """network -> membership (member) -> program -> activities, keys only, in row order."""
    tree: Tree = []
    for row in rows:
        if not tree or tree[-1][0] != row.network:
            tree.append((row.network, []))
        members = tree[-1][1]
        if row.membership is None:
            continue
        if not members or members[-1][0] != row.membership:
            members.append((row.membership, row.member, []))
        programs = members[-1][2]
        if row.program is None:
            continue
        if not programs or programs[-1][0] != row.program:
            programs.append((row.program, []))
        if row.activity is not None:
            programs[-1][1].append(row.activity)
    return tree


def tree_of_response(data: dict[str, Any]) -> Tree:
    return [
        (
            network["key"],
            [
                (
                    m["membershipId"],
                    m["member"]["key"],
                    [
                        (p["key"], [a["key"] for a in p["activities"]["nodes"]])
                        for p in m["member"]["programs"]["nodes"]
                    ],
                )
                for m in network["members"]["nodes"]
            ],
        )
        for network in data["partners"]["nodes"]
    ]


def objects_in(tree: Tree) -> int:
    """Networks, memberships, member partners, programs and activities in one answer."""
    total = len(tree)
    for _network, members in tree:
        total += 2 * len(members)
        for _m, _member, programs in members:
            total += len(programs) + sum(len(acts) for _p, acts in programs)
    return total


# --- measuring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    label: str
    concurrency: int
    seconds: list[float]
    wall: float

    @property
    def rps(self) -> float:
        return len(self.seconds) / self.wall

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[98] * 1000


async def timed(
    label: str, requests: int, concurrency: int, ask: Callable[[int], Awaitable[None]]
) -> Timing:
    """`requests` calls of `ask(i)`, `concurrency` at a time; each call's latency."""
    seconds: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        for i in counter:
            started = time.perf_counter()
            await ask(i)
            seconds.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Timing(label, concurrency, seconds, time.perf_counter() - started)


@dataclass
class Result:
    engine: str
    basis: str
    objects: float
    statements: tuple[int, int]
    sql_ms: float
    api: list[Timing]
    floor: list[Timing]
    checked: int


def variables(after: str, as_of: date | None) -> dict[str, Any]:
    return {
        "after": encode_cursor(after) if after else None,
        "asOf": as_of.isoformat() if as_of else None,
        **PAGES,
    }


def floor_params(after: str, as_of: date | None) -> dict[str, Any]:
    params: dict[str, Any] = {"after": after, **PAGES}
    if as_of is not None:
        params["as_of"] = as_of
    return params


async def measure(
    engine_name: str,
    base: str,
    meter: Meter,
    floor_engine: AsyncEngine,
    afters: list[str],
    as_of: date | None,
    runs: list[tuple[int, int]],
) -> Result:
    query = floor_query(as_of is not None)
    limits = httpx.Limits(max_connections=max(c for c, _ in runs), max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:

        async def api(i: int) -> bytes:
            body = {"query": NESTED, "variables": variables(afters[i % len(afters)], as_of)}
            response = await http.post("/graphql", json=body)
            response.raise_for_status()
            return response.content

        async def floor(i: int) -> list[Any]:
            async with floor_engine.connect() as connection:
                found = await connection.execute(
                    query, floor_params(afters[i % len(afters)], as_of)
                )
                return list(found.all())

        # One sequential pass over every page: statements, objects, and the answer checked.
        counts, objects, sql_seconds = [], [], []
        for i in range(len(afters)):
            before, spent = meter.statements.value, meter.seconds.value
            content = await api(i)
            counts.append(meter.statements.value - before)
            sql_seconds.append(meter.seconds.value - spent)
            decoded = msgspec.json.decode(content)
            if decoded.get("errors"):
                raise RuntimeError(f"the API answered with errors: {decoded['errors'][:2]}")
            got = tree_of_response(decoded["data"])
            expected = tree_of_rows(await floor(i))
            if got != expected:
                raise RuntimeError(f"{engine_name}: the API and the floor differ on page {i}")
            objects.append(objects_in(got))

        async def api_checked(i: int) -> None:
            content = await api(i)
            if b'"errors"' in content:
                raise RuntimeError(f"the API answered with errors: {content[:300]!r}")

        async def floor_only(i: int) -> None:
            await floor(i)

        api_timings, floor_timings = [], []
        for concurrency, requests in runs:
            api_timings.append(await timed("api", requests, concurrency, api_checked))
            floor_timings.append(await timed("floor", requests, concurrency, floor_only))
    return Result(
        engine_name,
        "as of " + as_of.isoformat() if as_of else "current",
        statistics.mean(objects),
        (min(counts), max(counts)),
        statistics.median(sql_seconds) * 1000,
        api_timings,
        floor_timings,
        len(afters),
    )


# --- databases, machine, report -----------------------------------------------------------


def report(results: list[Result]) -> list[str]:
    lines = [
        "| engine | basis | objects/request | SQL statements/request | server SQL ms/request"
        " | concurrency | API req/s | API p50 ms | API p99 ms | floor req/s | floor p50 ms"
        " | floor p99 ms | API/floor (p50) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        low, high = r.statements
        spread = str(low) if low == high else f"{low}-{high}"
        for api, floor in zip(r.api, r.floor, strict=True):
            lines.append(
                f"| {r.engine} | {r.basis} | {r.objects:,.0f} | {spread} | {r.sql_ms:,.1f}"
                f" | {api.concurrency}"
                f" | {api.rps:,.1f} | {api.median_ms:,.1f} | {api.p99_ms:,.1f}"
                f" | {floor.rps:,.1f} | {floor.median_ms:,.1f} | {floor.p99_ms:,.1f}"
                f" | {api.median_ms / floor.median_ms:,.1f}x |"
            )
    return lines


async def bench_engine(engine_name: str, args: argparse.Namespace) -> list[Result]:
    shape = Shape(networks=args.networks, cities=args.cities)
    log = recorded(history(shape))
    networks = sorted(f"net-{n:03d}" for n in range(shape.networks))
    size = PAGES["networks"]
    afters = [""] + [networks[i - 1] for i in range(size, len(networks), size)]
    async with database(engine_name) as url:
        built = await build(url, log)
        print(
            f"{engine_name}: {built.events:,} events imported and projected in"
            f" {built.seconds:.1f} s; open rows {built.counts}",
            flush=True,
        )
        floor_engine = create_engine(url, **floor_options(engine_name))
        results = []
        try:
            async with server_process(url) as (base, meter):
                for as_of in (None, args.as_of):
                    result = await measure(
                        engine_name,
                        base,
                        meter,
                        floor_engine,
                        afters,
                        as_of,
                        [(1, args.sequential_requests), (args.concurrency, args.requests)],
                    )
                    results.append(result)
                    for line in report([result])[2:]:
                        print(line, flush=True)
        finally:
            await floor_engine.dispose()
        return results


# --- side by side with PostGraphile ----------------------------------------------------------

PEER_BIG = """query Big {
  %s: partners(kind: NETWORK, first: 20%s) {
    nodes {
      key name
      members(first: 100) {
        nodes {
          membershipId since until
          member { key name country programs(first: 100) { nodes { key name since until } } }
        }
      }
    }
  }
}"""
PEER_SMALL = """query Small {
  %s: partner(key: "city-00004") {
    key name
    memberships { nodes { membershipId since network { key name } } }
  }
}"""


def objects_of(value: Any) -> int:
    """Objects of the record in an answer: those with a key (not the wrappers around them)."""
    if isinstance(value, list):
        return sum(objects_of(v) for v in value)
    if not isinstance(value, dict):
        return 0
    own = "key" in value or "membershipId" in value
    return own + sum(objects_of(v) for v in value.values())


def body(query: str, *fill: object) -> bytes:
    return msgspec.json.encode({"query": query % fill})


async def p50(url: str, make: Any, requests: int) -> float:
    """Median latency (ms) of `requests` asked one after the other."""
    timings = []
    for n in range(requests):
        started = time.perf_counter()
        await postgraphile.ask(url, make(n))
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def row(query: str, ours: float, theirs: float | None, unit: str = "") -> str:
    ratio = f"{ours / theirs:.2f}x" if theirs else ""
    peer = f"{theirs:,.1f}{unit}" if theirs else ""
    return f"| {query} | {ours:,.1f}{unit} | {peer} | {ratio} |"


async def prepared(url: str, log: Sequence[RecordedEvent]) -> Built:
    """The history imported, the peer's views made, and the statistics fresh."""
    built = await build(url, log)
    engine = create_engine(url)
    try:
        await postgraphile.create_views(engine)
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await engine.dispose()
    return built


class Asked:
    """Request bodies, each a distinct document (its own alias) so no cache answers it."""

    @staticmethod
    def big(n: int) -> bytes:
        return body(PEER_BIG, f"b{n}", "")

    @staticmethod
    def big_as_of(n: int) -> bytes:
        return body(PEER_BIG, f"b{n}", ', asOf: "2015-06-01"')

    @staticmethod
    def small(n: int) -> bytes:
        return body(PEER_SMALL, f"s{n}")

    @staticmethod
    def peer_big(n: int) -> bytes:
        return body(postgraphile.BIG, f"b{n}")

    @staticmethod
    def peer_small(n: int) -> bytes:
        return body(postgraphile.SMALL, f"s{n}")


async def interleaved_p50(
    coop: str, peer: str, ours: Any, theirs: Any, rounds: int
) -> tuple[float, float]:
    """Median of per-round medians, the two servers alternating round by round."""
    mine, other = [], []
    for r in range(rounds):
        mine.append(await p50(coop, lambda n, r=r: ours(1000 * r + n + 20_000), 3))
        other.append(await p50(peer, lambda n, r=r: theirs(1000 * r + n + 20_000), 3))
    return statistics.median(mine), statistics.median(other)


async def throughput(url: str, make: Any, clients: int, seconds: float) -> float:
    """Answers (200) per second; failures are said, not counted."""
    rps, _, failures = await postgraphile.load(url, make, clients, seconds)
    if failures:
        print(f"  {failures} requests failed at {url} ({clients} clients)", flush=True)
    return rps


async def alternating(
    first: tuple[str, Any], second: tuple[str, Any], seconds: float, rounds: int = 4
) -> tuple[float, float]:
    """Requests per second of two loads (16 clients each), in `rounds` alternating runs
    of `seconds / rounds` each: a change in the machine's load falls on both."""
    done: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(rounds):
        for which, (url, make) in enumerate((first, second)):
            done[which].append(await throughput(url, make, 16, seconds / rounds))
    return statistics.mean(done[0]), statistics.mean(done[1])


async def side_by_side(args: argparse.Namespace) -> list[str]:
    """Coop and PostGraphile on one PostgreSQL database of the generator's history."""
    skipped = postgraphile.why_skipped()
    if skipped is not None:
        return [f"**{skipped}** (needs Node.js 20 or later and npm)."]
    log = recorded(history(Shape(networks=args.networks, cities=args.cities)))
    seconds = args.seconds
    async with database("postgres") as url:
        built = await prepared(url, log)
        print(f"peer: {built.events:,} events; open rows {built.counts}", flush=True)
        async with (
            server_process(url) as (base, meter),
            postgraphile.postgraphile(url, free_port()) as peer,
        ):
            coop = f"{base}/graphql"
            ours = msgspec.json.decode(await postgraphile.ask(coop, Asked.big(0)))
            theirs = msgspec.json.decode(await postgraphile.ask(peer, Asked.peer_big(0)))
            before, heads = meter.statements.value, meter.head_reads.value
            await postgraphile.ask(coop, Asked.big(1))
            statements = meter.statements.value - before
            head_reads = meter.head_reads.value - heads
            lines = [
                f"{built.events:,} events; objects in the big answer: Coop"
                f" {objects_of(ours['data']):,}, PostGraphile {objects_of(theirs['data']):,};"
                f" SQL statements per compiled Coop request: {statements - head_reads} for its"
                f" one root field, and {head_reads} reading the log head (heard over LISTEN,"
                " read from the database at most once a second)",
                "",
                "| query | Coop | PostGraphile | Coop / PostGraphile |",
                "|---|---:|---:|---:|",
            ]
            for n in range(3):  # warm both up
                await postgraphile.ask(coop, Asked.big(10_000 + n))
                await postgraphile.ask(peer, Asked.peer_big(10_000 + n))
            big_ms, peer_ms = await interleaved_p50(
                coop, peer, Asked.big, Asked.peer_big, args.rounds
            )
            lines.append(row("big, cold, one at a time, p50", big_ms, peer_ms, " ms"))
            for name, mine, other, clients in (
                ("big", Asked.big, Asked.peer_big, 16),
                ("small", Asked.small, Asked.peer_small, 1),
                ("small", Asked.small, Asked.peer_small, 16),
            ):
                ours_rps = await throughput(coop, mine, clients, seconds)
                theirs_rps = await throughput(peer, other, clients, seconds)
                lines.append(row(f"{name}, cold, {clients} clients, req/s", ours_rps, theirs_rps))
            as_of_ms, _ = await interleaved_p50(
                coop, coop, Asked.big_as_of, Asked.big_as_of, max(1, args.rounds // 2)
            )
            lines.append(
                f"| big with asOf, p50 | {as_of_ms:,.0f} ms | | {as_of_ms / big_ms:.2f}x Coop's"
                " current big |"
            )
            warm, plain = await alternating(
                (coop, lambda n: Asked.small(0)), (f"{base}/plain", lambda n: b"{}"), seconds
            )
            lines.append(
                f"| small, warm (answered from the cache), 16 clients, req/s | {warm:,.0f} |"
                f" | {warm / plain:.2f}x a plain Starlette JSON route ({plain:,.0f} req/s) |"
            )
        return lines


async def run(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    print(f"machine: {await machine(engines)}")
    if args.peer != "off" and "postgres" in engines:
        for line in await side_by_side(args):
            print(line, flush=True)
        if args.peer == "only":
            return
    print(
        f"pages: {PAGES}; {args.sequential_requests} requests one at a time, then"
        f" {args.requests} at concurrency {args.concurrency}, each for the API and for the"
        " floor; every page's answer checked against the floor's rows first",
        flush=True,
    )
    results: list[Result] = []
    for engine_name in engines:
        results += await bench_engine(engine_name, args)
    print()
    for line in report(results):
        print(line)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="at --concurrency")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sequential-requests", type=int, default=100, help="at concurrency 1")
    parser.add_argument("--networks", type=int, default=300)
    parser.add_argument("--cities", type=int, default=3000)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2015, 6, 1))
    parser.add_argument(
        "--peer", choices=["on", "off", "only"], default="on", help="PostGraphile side by side"
    )
    parser.add_argument("--rounds", type=int, default=15, help="interleaved p50 rounds")
    parser.add_argument("--seconds", type=float, default=10, help="each throughput run")
    args = parser.parse_args()
    unknown = set(args.engines.split(",")) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}; use sqlite and/or postgres")
    return args


def main() -> None:
    asyncio.run(run(arguments()))


if __name__ == "__main__":
    main()
