"""Memberships and roles, from either side: a member's networks or a network's members."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.models.memberships import memberships
from projections.models.roles import bodies, roles
from projections.queries.basis import Basis, Found, Page, Row, grouped, run_page


async def memberships_of(
    connection: AsyncConnection, members: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each member, the memberships it held (on `basis.as_of`, when given)."""
    return await grouped(connection, memberships, memberships.c.member, members, basis)


async def members_of(
    connection: AsyncConnection, networks: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each network, its memberships (on `basis.as_of`, when given)."""
    return await grouped(connection, memberships, memberships.c.network, networks, basis)


async def members_page(
    connection: AsyncConnection,
    network: str,
    basis: Basis = Basis(),
    page: Page = Page(),
    with_total: bool = False,
) -> Found:
    """One page of a network's memberships, in membership-id order (keyset)."""
    query = basis.where(memberships, select(memberships)).where(memberships.c.network == network)
    return await run_page(connection, memberships, query, basis, page, with_total)


async def roles_in(
    connection: AsyncConnection, networks: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each network, the roles held in it or its bodies (on `basis.as_of`, when given)."""
    return await grouped(connection, roles, roles.c.network, networks, basis)


async def roles_of(
    connection: AsyncConnection, holders: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each holder, the roles it held."""
    return await grouped(connection, roles, roles.c.holder, holders, basis)


async def bodies_of(
    connection: AsyncConnection, networks: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each network, its bodies with their last recorded size."""
    return await grouped(
        connection, bodies, bodies.c.network, networks, Basis(None, basis.position)
    )
