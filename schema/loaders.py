"""Per-request DataLoaders: every nested field loads through one batched query per level."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from projections.queries import history, memberships, partners, programs, tables
from projections.queries.basis import Basis, Row, by_key
from schema.context import Context

Fetch = Callable[[AsyncConnection, Sequence[str], Basis], Awaitable[Mapping[str, Any]]]
Key = tuple[Basis, str]

FETCHES: dict[str, tuple[Fetch, Any]] = {
    # name: (batched query, value for a key it did not find)
    "partner": (partners.partners_by_key, None),
    "memberships_of": (memberships.memberships_of, ()),
    "members_of": (memberships.members_of, ()),
    "membership": (by_key(tables.memberships), None),
    "role": (by_key(tables.roles), None),
    "participation": (by_key(tables.program_partners), None),
    "commitment": (by_key(tables.commitments), None),
    "source": (by_key(tables.sources), None),
    "body": (by_key(tables.bodies), None),
    "roles_of": (memberships.roles_of, ()),
    "roles_in": (memberships.roles_in, ()),
    "bodies_of": (memberships.bodies_of, ()),
    "program": (by_key(tables.programs), None),
    "participants_of_program": (programs.partners_of_programs, ()),
    "participations_of_partner": (programs.programs_of_partners, ()),
    "programs_led_by": (partial(programs.programs_grouped, "lead"), ()),
    "activity": (by_key(tables.activities), None),
    "activities_of_partner": (programs.participations_of, ()),
    "activities_of_network": (partial(programs.activities_of, "network"), ()),
    "activities_of_program": (partial(programs.activities_of, "program"), ()),
    "commitments_by": (partial(programs.commitments_of, "by"), ()),
    "commitments_at": (partial(programs.commitments_of, "activity"), ()),
    **{f"versions:{kind}": (history.versions_of(kind), ()) for kind in history.HISTORIES},
}


def load(context: Context, name: str, basis: Basis, key: str) -> Awaitable[Any]:
    """The value of loader `name` for `key` on `basis`, batched with its siblings."""
    loader = context.loaders.get(name)
    if loader is None:
        fetch, missing = FETCHES[name]
        loader = context.loaders[name] = DataLoader(partial(_batch, context, fetch, missing))
    return loader.load((basis, key))


async def _batch(context: Context, fetch: Fetch, missing: Any, keys: list[Key]) -> list[Any]:
    by_basis: dict[Basis, list[str]] = defaultdict(list)
    for basis, key in keys:
        by_basis[basis].append(key)
    found: dict[Key, Any] = {}
    for basis, group in by_basis.items():
        async with context.db() as connection:
            rows = await fetch(connection, list(dict.fromkeys(group)), basis)
        found.update({(basis, key): value for key, value in rows.items()})
    return [found.get(key, missing) for key in keys]


def load_provenance(context: Context, position: int) -> Awaitable[history.Provenance | None]:
    loader = context.loaders.get("provenance")
    if loader is None:
        loader = context.loaders["provenance"] = DataLoader(partial(_provenance, context))
    return loader.load(position)


async def _provenance(context: Context, positions: list[int]) -> list[history.Provenance | None]:
    async with context.db() as connection:
        found = await history.provenance(connection, set(positions))
    return [found.get(position) for position in positions]


def rows_in_key_order(rows: Sequence[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (row["key"], row["slice"]))
