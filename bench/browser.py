"""The record browser's server time: a partner page with 100 memberships, and the timeline
SVG of a network with 1,000 members, each against a baseline measured in the same run.

Run by `make bench`, never by the tests. On each engine (SQLite in a file in a temporary
directory; PostgreSQL in a fresh database beside COOP_BENCH_POSTGRES_URL's, dropped after)
it writes a synthetic, hash-chained history through `EventStore.import_events`: one
network with 1,000 members (starts at year, month or day precision, a tenth undated, a
third ended, some at an unknown date, a twentieth corrected, 20 officeholders) and one city
in 100 networks (with 10 roles), then 200 unrelated partner updates, so that each of the
last 200 log positions shows the same record but names a drawing not yet kept.

Server time is the time from request to complete response through the ASGI application
(`service.app.create_app`), in this process, with no network between (httpx's ASGI
transport). Measured, in alternation:

- the partner page `/partners/busy-city` (100 memberships, 10 roles) made fresh (each
  request at a log position not yet shown) and kept (the record now, again), and the
  baseline: the same facts asked of the API (`POST /graphql` with the page's whole question
  as one document, `documents.PARTNER`, which the page itself asks in parts);
- the timeline `/timeline/big-network.svg` drawn fresh (each request at a log position not
  yet drawn) and kept (the same position again), and the baseline: reading its rows alone
  (the projection queries it makes, on one connection, nothing drawn).

    .venv/bin/python bench/browser.py [--engines sqlite,postgres] [--requests N]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx

from bench.support import PLAIN, chained, database, machine, quantile
from domain import events as ev
from events.database import create_engine
from events.dates import PartialDate
from projections.queries.basis import Basis
from projections.queries.memberships import members_of, roles_in
from projections.queries.partners import partners_by_key
from service.app import create_app
from service.browser import documents
from service.migrate import upgrade
from service.services import Services, build_services
from service.settings import Settings

NETWORK, CITY = "big-network", "busy-city"
MEMBERS, MEMBERSHIPS, LATER = 1000, 100, 200
IMPORT_BATCH = 1000
WARM = 5


def partial(rng: random.Random, year: int) -> PartialDate:
    draw = rng.random()
    if draw < 0.4:
        return PartialDate(year)
    if draw < 0.7:
        return PartialDate(year, rng.randint(1, 12))
    return PartialDate(year, rng.randint(1, 12), rng.randint(1, 28))


def history(seed: int = 11) -> Iterator[object]:
    rng = random.Random(seed)
    yield ev.PartnerRegistered(key=NETWORK, name="A Large Network", kind="network")
    yield ev.PartnerRegistered(key=CITY, name="A Busy City", kind="city", country="JP")
    for n in range(MEMBERS):
        city = f"city-{n:04d}"
        yield ev.PartnerRegistered(key=city, name=f"City {n}", kind="city", country="JP")
        since = partial(rng, rng.randint(1990, 2022)) if rng.random() > 0.1 else PartialDate()
        membership = f"{city}@{NETWORK}#1"
        yield ev.MembershipStarted(
            membership_id=membership, member=city, network=NETWORK, since=since, notes=[]
        )
        if rng.random() < 0.33:
            until = PartialDate() if rng.random() < 0.2 else partial(rng, 2023)
            yield ev.MembershipEnded(
                membership_id=membership, member=city, network=NETWORK, until=until
            )
        elif rng.random() < 0.05 and since.known:
            yield ev.MembershipCorrected(
                membership_id=membership,
                member=city,
                network=NETWORK,
                since=PartialDate(since.year, 6),
                notes=[],
                corrected_fields=["since"],
            )
        if n < 20:
            yield ev.RoleAssigned(
                role_id=f"{city}@{NETWORK}#role-1",
                holder=city,
                network=NETWORK,
                position="steering committee member",
                since=PartialDate(2020),
                notes=[],
            )
    for n in range(MEMBERSHIPS):
        network = f"network-{n:03d}"
        yield ev.PartnerRegistered(key=network, name=f"Network {n}", kind="network")
        since = partial(rng, rng.randint(1990, 2022))
        membership = f"{CITY}@{network}#1"
        yield ev.MembershipStarted(
            membership_id=membership, member=CITY, network=network, since=since, notes=[]
        )
        if n < 10:
            yield ev.RoleAssigned(
                role_id=f"{CITY}@{network}#role-1",
                holder=CITY,
                network=network,
                position="vice chair",
                since=PartialDate(2021),
                notes=[],
            )
    for n in range(LATER):
        yield ev.PartnerUpdated(
            key="city-0000",
            name=f"City 0 ({n})",
            kind="city",
            country="JP",
            effective=PartialDate(2024),
            changed_fields=["name"],
        )


async def build(url: str) -> int:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    log = list(chained((event, PLAIN) for event in history()))  # type: ignore[misc]
    services = build_services(Settings(database_url=url))
    await services.start()
    try:
        for first in range(0, len(log), IMPORT_BATCH):
            await services.store.import_events(log[first : first + IMPORT_BATCH])
        if services.engine.dialect.name == "postgresql":
            async with services.engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE")
    finally:
        await services.close()
    return len(log)


async def rows_alone(services: Services, position: int) -> None:
    """The baseline under the drawing: its reads, nothing drawn."""
    basis = Basis(position=position)
    async with services.engine.connect() as connection:
        members = (await members_of(connection, [NETWORK], basis))[NETWORK]
        offices = (await roles_in(connection, [NETWORK], basis))[NETWORK]
        keys = sorted({row["member"] for row in members} | {row["holder"] for row in offices})
        await partners_by_key(connection, keys, basis)


async def timed(series: Series, call: Callable[..., Awaitable[None]], *args: object) -> None:
    """Time one call: wall time (server time), and the CPU time this process spent in it
    (its threads included), which a busy machine inflates far less."""
    started, cpu = time.perf_counter(), time.process_time()
    await call(*args)
    series.times.append((time.perf_counter() - started) * 1000)
    series.cpu.append((time.process_time() - cpu) * 1000)


@dataclass
class Series:
    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def row(self, engine: str, baseline: Series | None) -> str:
        median = statistics.median(self.times)
        ratio = f"{median / statistics.median(baseline.times):.2f}" if baseline else "-"
        return (
            f"| {engine} | {self.name} | {len(self.times)} | {median:.1f} |"
            f" {quantile(self.times, 95):.1f} | {statistics.median(self.cpu):.1f} | {ratio} |"
        )


async def bench_engine(engine: str, requests: int) -> list[str]:
    async with database(engine, label="browser") as url:
        events = await build(url)
        # The API baseline posts the page's own document, which the record pages run
        # in-process outside the clients' cost budget (it estimates ~83,000 objects).
        settings = Settings(database_url=url, max_query_cost=1_000_000)
        services = build_services(settings)
        await services.start()
        try:
            return await measure(engine, services, events, requests)
        finally:
            await services.close()


async def measure(engine: str, services: Services, events: int, requests: int) -> list[str]:
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:

        async def get(path: str) -> None:
            response = await http.get(path)
            assert response.status_code == 200, (path, response.status_code)

        async def api() -> None:
            variables = {"key": CITY, "atPosition": events, "first": 100}
            body = {"query": documents.PARTNER, "variables": variables}
            # no-cache: the answer is made each time, not served from the answer cache
            headers = {"cache-control": "no-cache"}
            response = await http.post("/graphql", json=body, headers=headers)
            assert "errors" not in response.json()

        page = await http.get(f"/partners/{CITY}")
        assert page.text.count('class="fact"') >= MEMBERSHIPS, "the page shows every membership"
        svg = await http.get(f"/timeline/{NETWORK}.svg")
        assert svg.text.count('class="period member"') == MEMBERS
        for n in range(WARM):  # warm what a long-running server has warm (parsed documents)
            await get(f"/partners/{CITY}?atPosition={events - LATER + 1 + n}")
            await api()
        names = ("page fresh", "page kept", "api", "svg fresh", "svg kept", "svg rows alone")
        series = {name: Series(name) for name in names}
        fresh = min(requests, LATER - WARM)
        for n in range(requests):
            position = events - (n % fresh)
            if n < fresh:
                await timed(series["page fresh"], get, f"/partners/{CITY}?atPosition={position}")
            await timed(series["page kept"], get, f"/partners/{CITY}")
            await timed(series["api"], api)
            if n < fresh:
                await timed(
                    series["svg fresh"], get, f"/timeline/{NETWORK}.svg?atPosition={position}"
                )
            await timed(series["svg kept"], get, f"/timeline/{NETWORK}.svg?atPosition={events}")
            await timed(series["svg rows alone"], rows_alone, services, position)
    return [
        series["page fresh"].row(engine, series["api"]),
        series["page kept"].row(engine, series["api"]),
        series["api"].row(engine, None),
        series["svg fresh"].row(engine, series["svg rows alone"]),
        series["svg kept"].row(engine, series["svg rows alone"]),
        series["svg rows alone"].row(engine, None),
    ]


async def run(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    print(await machine(engines))
    print("| engine | what | requests | median ms | p95 ms | CPU median ms | median / baseline |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for engine in engines:
        for line in await bench_engine(engine, args.requests):
            print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--requests", type=int, default=100)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
