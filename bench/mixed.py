"""A query part compiled and part resolved, in process: before and after per-subtree planning.

Before per-subtree planning, a root field with any field the compiler cannot answer
(here `provenance` and `roles`) was answered whole by the resolvers; now the compiled
part is one statement and only those fields go through the resolvers, grafted in. On one
engine at a time it writes `bench/graphql.py`'s synthetic history (a smaller shape by
default), builds the app in this process (`create_app`, no HTTP server: httpx's ASGI
transport), and asks three documents, each a new alias per request so no answer is kept:

- mixed, compiled part and resolved subtrees (reads compiled, as served);
- mixed, all resolvers (`COOP_RESOLVE_READS`: the path every mixed query took before);
- the same tree without the resolved fields, compiled whole (the compiler's floor).

Rounds alternate the three; the figure is the median of the rounds' medians, with the SQL
statements each request made and the machine's load average.

    .venv/bin/python bench/mixed.py [--engines sqlite,postgres] [--networks N]
        [--cities N] [--rounds N]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace

import httpx
from sqlalchemy import event

from bench.graphql import Shape, build, history, recorded
from bench.support import database, machine
from service.app import create_app
from service.services import build_services
from service.settings import Settings

TREE = """query Mixed {{ {alias}: partners(kind: NETWORK, first: 10) {{ nodes {{ key name
  {extra_partner}
  members(first: 50) {{ nodes {{ membershipId since until
    member {{ key name country source {{ document section }} {extra_member}
      programs(first: 20) {{ nodes {{ key name since }} }} }} }} }} }} }} }}"""
RESOLVED_PARTNER = "provenance { totalCount nodes { position type } }"
RESOLVED_MEMBER = "roles { totalCount nodes { title } }"


def document(n: int, mixed: bool) -> str:
    return TREE.format(
        alias=f"a{n}",
        extra_partner=RESOLVED_PARTNER if mixed else "",
        extra_member=RESOLVED_MEMBER if mixed else "",
    )


async def measure(url: str, rounds: int) -> list[str]:
    services = build_services(Settings(database_url=url, max_query_cost=10**7))
    await services.start()
    statements: list[str] = []
    event.listen(
        services.engine.sync_engine,
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )
    compiled = services.settings
    resolved = replace(compiled, compile_reads=False)
    ways = {
        "mixed: compiled part + resolved subtrees": (compiled, True),
        "mixed: all resolvers (as before)": (resolved, True),
        "without the resolved fields: compiled whole": (compiled, False),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    counts: dict[str, int] = {}
    app = create_app(compiled, services)
    transport = httpx.ASGITransport(app=app)
    n = 0
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
            for _ in range(rounds):
                for name, (settings, mixed) in ways.items():
                    services.settings = settings
                    spent = []
                    for _ in range(3):
                        n += 1
                        statements.clear()
                        started = time.perf_counter()
                        body = {"query": document(n, mixed)}
                        response = await http.post("/graphql", json=body)
                        spent.append(time.perf_counter() - started)
                        answer = response.json()
                        assert "errors" not in answer, answer["errors"]
                        counts[name] = len([s for s in statements if s != "BEGIN"])
                    times[name].append(statistics.median(spent))
    finally:
        services.settings = compiled
        await services.close()
    return [
        f"| {name} | {statistics.median(times[name]) * 1000:.0f} ms | {counts[name]} |"
        for name in ways
    ]


async def run(args: argparse.Namespace) -> None:
    log = recorded(history(Shape(args.networks, args.cities)))  # type: ignore[arg-type]
    print(f"{await machine(args.engines.split(','))}; {len(log)} events")
    for engine_name in args.engines.split(","):
        async with database(engine_name) as url:
            await build(url, log)
            rows = await measure(url, args.rounds)
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"\n{engine_name} (load average {load})\n")
        print("| query | p50 | SQL statements |\n|---|---:|---:|")
        print("\n".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--networks", type=int, default=60)
    parser.add_argument("--cities", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
