"""What the request guards cost the small query: the cost estimate, the string limits and the
wall-clock budget, against the whole request.

Run by `make bench`, never by the tests. On each engine, over the seed history:

1. the small query (`{ partner(key: "tokyo") { name kind country } }`) is posted
   `--requests` times through the real ASGI app (httpx's ASGITransport, in this process, so
   no socket noise), and its median latency taken;
2. the guard work that request does is run `--requests` times on its own, exactly as the
   request runs it: `check_strings` and `estimate_cost` on the parsed document,
   entering and leaving `asyncio.timeout` (the HTTP handler's), and arming and cancelling
   the interrupt timer the operation's connection gets (`loop.call_at`);
3. the overhead is (2) / ((1) - (2)): what the guards add to the request without them;
4. memory: the process's resident size after warming up, then after `--refused` requests
   refused by the cost budget and `--cut` requests cut off by a 0.05 s budget while
   searching 200,000 partner rows, then 1 s later; and how long the small query takes when
   sent while each cut-off request is reading.

    .venv/bin/python bench/guards.py [--engines sqlite,postgres] [--requests N]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import gc
import os
import statistics
import time
from dataclasses import replace

import httpx
from graphql import parse

from bench.support import database, machine
from schema.cost import estimate_cost
from schema.inputs import check_strings
from schema.root import build_schema
from service.app import create_app
from service.migrate import upgrade
from service.seeding import load_seed
from service.services import build_services
from service.settings import Settings
from tests.databases import many_partners

SMALL = '{ partner(key: "tokyo") { name kind country } }'


HEAVY = """{ partners(first: 100) { edges { node { a: members(first: 100) { nodes {
    member { memberships(first: 100) { nodes { network { key } } } } } } } } } }"""
SLOW = '{ partners(search: "no such text anywhere") { totalCount } }'


def resident_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def request_times(url: str, requests: int, refused: int, cut: int) -> tuple[list[float], str]:
    services = build_services(Settings(database_url=url))
    await upgrade(services.engine)
    await services.start()
    await load_seed(services.commands)
    async with services.engine.begin() as connection:
        await many_partners(connection, 200_000)
    app = create_app(services.settings, services)
    times: list[float] = []
    beside: list[float] = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for n in range(requests + 50):
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": SMALL})
                elapsed = time.perf_counter() - started
                assert response.json()["data"]["partner"]["name"], response.text
                if n >= 50:  # the first ones warm the caches
                    times.append(elapsed)
            gc.collect()
            before = resident_mib()
            for _ in range(refused):
                answer = (await http.post("/graphql", json={"query": HEAVY})).json()
                assert answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
            services.settings = replace(services.settings, request_timeout=0.05)
            cut_app = create_app(services.settings, services)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=cut_app), base_url="http://bench"
            ) as cut_http:
                for _ in range(cut):
                    heavy = asyncio.create_task(cut_http.post("/graphql", json={"query": SLOW}))
                    await asyncio.sleep(0.02)  # the heavy one is reading
                    started = time.perf_counter()
                    small = await http.post("/graphql", json={"query": SMALL})
                    beside.append(time.perf_counter() - started)
                    assert small.json()["data"]["partner"]["name"]
                    answer = (await heavy).json()
                    assert answer["errors"][0]["extensions"]["code"] == "TIMEOUT", answer
            gc.collect()
            after = resident_mib()
            await asyncio.sleep(1)
            gc.collect()
            later = resident_mib()
    finally:
        await services.close()
    memory = f"{before:.0f} MiB, {after:.0f} MiB after, {later:.0f} MiB 1 s later"
    small = f"{statistics.median(beside) * 1e3:.1f} ms median, {max(beside) * 1e3:.1f} ms max"
    return times, f"{memory} | {small}"


async def guard_times(requests: int) -> list[float]:
    schema = build_schema()._schema
    document = parse(SMALL)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        async with asyncio.timeout(10):  # noqa: ASYNC100  (what entering and leaving costs)
            check_strings(document, {})
            estimate_cost(schema, document, None, {}, 100)
            loop.call_at(loop.time() + 10, lambda: None).cancel()
        times.append(time.perf_counter() - started)
    return times


async def main(engines: list[str], requests: int, refused: int, cut: int) -> None:
    print(await machine(engines))
    print(f"small query: {SMALL}")
    print(
        "| engine | request median µs | guards median µs | overhead | resident memory"
        " | small query beside a cut-off one |"
    )
    print("|---|---:|---:|---:|---|---|")
    for engine in engines:
        async with database(engine) as url:
            times, memory = await request_times(url, requests, refused, cut)
        whole = statistics.median(times)
        guards = statistics.median(await guard_times(requests))
        overhead = guards / (whole - guards)
        print(
            f"| {engine} | {whole * 1e6:,.0f} | {guards * 1e6:,.1f} | {overhead:.2%} | {memory} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--refused", type=int, default=200)
    parser.add_argument("--cut", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.engines.split(","), args.requests, args.refused, args.cut))
