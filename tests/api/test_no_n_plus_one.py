"""Nested fields load through per-request DataLoaders: statements grow with depth, not rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from domain.events import (
    ActivityRecorded,
    MembershipStarted,
    PartnerJoinedProgram,
    PartnerRegistered,
    ProgramLaunched,
)
from events.dates import PartialDate
from service.services import Services
from tests.api.conftest import Client

# Pages as large as the data below needs, within the cost budget (about 23,000 objects):
# 100 at each of the four levels would be refused before any statement.
NESTED = """{ partners(kind: NETWORK, first: 10) { nodes { key
  members(first: 60) { nodes { member { key
    programs(first: 5) { nodes { key
      activities(first: 5) { nodes { name } } } } } } } } } }"""


async def record(services: Services, prefix: str, networks: int, members: int) -> None:
    store = services.store
    for n in range(networks):
        net = f"{prefix}net-{n}"
        await store.append(f"partner:{net}", [PartnerRegistered(key=net, name=net, kind="network")])
        for m in range(members):
            city = f"{prefix}city-{n}-{m}"
            await store.append(
                f"partner:{city}", [PartnerRegistered(key=city, name=city, kind="city")]
            )
            started = MembershipStarted(
                membership_id=f"{city}@{net}#1",
                member=city,
                network=net,
                since=PartialDate(2000 + m % 20),
                notes=[],
            )
            program = f"{prefix}prog-{n}-{m}"
            launched = ProgramLaunched(
                key=program,
                name=program,
                field="waste_management",
                kind="bilateral_program",
                topics=[],
                lead=city,
                since=PartialDate(2010),
            )
            joined = PartnerJoinedProgram(
                participation_id=f"{program}/{net}#1",
                program=program,
                partner=net,
                since=PartialDate(2011),
            )
            activity = ActivityRecorded(
                key=f"{prefix}act-{n}-{m}",
                name=f"workshop {n}-{m}",
                kind="workshop",
                on=PartialDate(2020),
                participants=[city],
                representatives=[],
                program=program,
            )
            await store.append(f"membership:{city}@{net}", [started])
            await store.append(f"program:{program}", [launched, joined])
            await store.append(f"activity:{prefix}act-{n}-{m}", [activity])


@contextmanager
def counting(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", count)


async def run(client: Client) -> tuple[int, int]:
    with counting(client.services) as statements:
        data = await client.data(NESTED)
    rows = sum(
        1 + len(m["member"]["programs"]["nodes"])
        for net in data["partners"]["nodes"]
        for m in net["members"]["nodes"]
    )
    return len(statements), rows


async def test_statements_depend_on_depth_not_on_rows(client: Client) -> None:
    await record(client.services, "a-", networks=2, members=3)
    small_statements, small_rows = await run(client)
    await record(client.services, "b-", networks=3, members=50)
    large_statements, large_rows = await run(client)
    assert large_rows > 10 * small_rows > 0
    assert large_statements == small_statements
    assert large_statements <= 12
