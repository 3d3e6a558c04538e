"""Per-request DataLoaders: every nested field loads through one batched query per level.

Each `Loader` names one batched read (a query for many keys on one basis) and what a key
it did not find gets; its DataLoader lives in the operation's state, never longer.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from domain.vocabulary import ObjectKind
from projections.queries import history, memberships, partners, programs, tables
from projections.queries.basis import Basis, Row, by_key
from schema.context import Context

V = TypeVar("V")
Fetch = Callable[[AsyncConnection, Sequence[str], Basis], Awaitable[Mapping[str, V]]]
Key = tuple[Basis, str]
Rows = Sequence[Row]
# Keys read by one statement: a large batch is read in chunks, so that one request's
# thousands of keys do not hold the event loop while others wait.
CHUNK = 250


@dataclass(frozen=True, eq=False)
class Loader(Generic[V]):
    """One batched read by key on a basis, and the value of a key it does not find."""

    fetch: Fetch[V]
    missing: V

    def load(self, context: Context, basis: Basis, key: str) -> Awaitable[V]:
        """The value for `key` on `basis`, batched with its siblings in this operation."""
        loaders = context.loaders
        loader = loaders.get(self)
        if loader is None:
            loader = loaders[self] = DataLoader(partial(_batch, context, self))
        found: Awaitable[V] = loader.load((basis, key))
        return found


async def _batch(context: Context, loader: Loader[V], keys: list[Key]) -> list[V]:
    by_basis: dict[Basis, list[str]] = defaultdict(list)
    for basis, key in keys:
        by_basis[basis].append(key)
    found: dict[Key, V] = {}
    for basis, group in by_basis.items():
        unique = list(dict.fromkeys(group))
        for start in range(0, len(unique), CHUNK):
            if start:
                await asyncio.sleep(0)  # let other requests run between chunks
            async with context.db() as connection:
                rows = await loader.fetch(connection, unique[start : start + CHUNK], basis)
            found.update({(basis, key): value for key, value in rows.items()})
    return [found.get(key, loader.missing) for key in keys]


def one(table: Any) -> Loader[Row | None]:
    """Objects of one table by key."""
    return Loader(by_key(table), None)


def many(fetch: Fetch[list[Row]]) -> Loader[Rows]:
    """Rows grouped by a key (a parent's children)."""
    return Loader(fetch, ())


PARTNER: Loader[Row | None] = Loader(partners.partners_by_key, None)
MEMBERSHIP = one(tables.memberships)
ROLE = one(tables.roles)
BODY = one(tables.bodies)
PROGRAM = one(tables.programs)
PARTICIPATION = one(tables.program_partners)
ACTIVITY = one(tables.activities)
COMMITMENT = one(tables.commitments)
SOURCE = one(tables.sources)

MEMBERSHIPS_OF = many(memberships.memberships_of)
MEMBERS_OF = many(memberships.members_of)
ROLES_OF = many(memberships.roles_of)
ROLES_IN = many(memberships.roles_in)
BODIES_OF = many(memberships.bodies_of)
PARTICIPANTS_OF_PROGRAM = many(programs.partners_of_programs)
PARTICIPATIONS_OF_PARTNER = many(programs.programs_of_partners)
PROGRAMS_LED_BY = many(partial(programs.programs_grouped, "lead"))
ACTIVITIES_OF_PARTNER = many(programs.participations_of)
ACTIVITIES_OF_NETWORK = many(partial(programs.activities_of, "network"))
ACTIVITIES_OF_PROGRAM = many(partial(programs.activities_of, "program"))
COMMITMENTS_BY = many(partial(programs.commitments_of, "by"))
COMMITMENTS_AT = many(partial(programs.commitments_of, "activity"))

# Every version of an object, by the kind of object.
VERSIONS: dict[ObjectKind, Loader[Rows]] = {
    kind: many(history.versions_of(kind)) for kind in history.HISTORIES
}


def load_provenance(context: Context, position: int) -> Awaitable[history.Provenance | None]:
    loaders = context.loaders
    loader = loaders.get(load_provenance)
    if loader is None:
        loader = loaders[load_provenance] = DataLoader(partial(_provenance, context))
    found: Awaitable[history.Provenance | None] = loader.load(position)
    return found


async def _provenance(context: Context, positions: list[int]) -> list[history.Provenance | None]:
    async with context.db() as connection:
        found = await history.provenance(connection, set(positions))
    return [found.get(position) for position in positions]


def rows_in_key_order(rows: Rows) -> list[Row]:
    return sorted(rows, key=lambda row: (row["key"], row["slice"]))
